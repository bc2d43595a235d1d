"""What one commit publishes to a user: routed as it is in this process, and the same parts once Redis has
carried its text (`chat.ws.hub.Parts`, `parts_of`)."""
from __future__ import annotations

from chat.ws import frames
from chat.ws.hub import Parts, control_payload, frame_payload, parts_of
from chat.ws.store import Positioned

MESSAGE = Positioned(3, '{"id":11,"seq":2,"body":{"text":"还在吗\\n在"}}', 7, "c-1")
EDIT = Positioned(4, '{"message":{"id":11,"revision":1}}', None, None, "edit")
UNREAD = frame_payload(frames.event("unread", {"unread_total": 2, "unread_version": 5}))


def test_a_commits_parts_decode_from_their_text_to_the_same_parts():
    parts = Parts([MESSAGE, EDIT, UNREAD])
    text = str(parts)
    assert text.startswith("m[")  # several parts: one broker message
    assert parts_of(text) == parts
    assert [type(part) for part in parts_of(text)] == [Positioned, Positioned, str]


def test_one_part_travels_as_its_own_payload():
    assert str(Parts([MESSAGE])) == 'p[3,7,"c-1"]\n' + MESSAGE.message_json
    assert str(Parts([EDIT])) == 'p[4,null,null,"edit"]\n' + EDIT.message_json
    assert parts_of(str(Parts([MESSAGE]))) == [MESSAGE]
    assert parts_of(str(Parts([EDIT]))) == [EDIT]
    assert parts_of(UNREAD) == [UNREAD]


def test_in_this_process_the_list_itself_is_routed_and_other_publishers_texts_still_are():
    parts = Parts([MESSAGE, UNREAD])
    assert parts_of(parts) is parts  # nothing encoded or parsed on the in-process broker
    control = control_payload(close=4401, token_id=9)
    assert parts_of(control) == [control]
