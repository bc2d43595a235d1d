"""Chat's references to uploads (images, audio, video in message bodies), registered with the upload sweep."""
from __future__ import annotations

from sqlalchemy.orm import Session

from chat.models import ChatMessage
from marketplace.uploads.sweep import names_in


def uploads_in_messages(s: Session, names: list[str]) -> set[str]:
    """The names among `names` that a message body or ext still references."""
    if not names:
        return set()
    found = names_in(s, ChatMessage.body, names)
    rest = [n for n in names if n not in found]
    return found | (names_in(s, ChatMessage.ext, rest) if rest else set())
