"""The per-process WebSocket send queue: sends queued together commit together, each is answered once,
in the order it was queued, and the worker comes and goes with the traffic."""
from __future__ import annotations

import threading

import pytest

from chat.messages import batch as batch_module
from chat.messages.batch import SendRequest
from chat.messages.send import SendResult
from chat.ws import send_queue
from chat.ws.send_queue import SendQueue


def request(sender, group_id: int, client_id: str) -> SendRequest:
    return SendRequest(sender_id=sender.id, group_id=group_id, client_id=client_id, type="txt",
                       body={"text": client_id})


def test_queued_sends_commit_in_batches_and_are_answered_in_order(clean_app, factory, chat, monkeypatch):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sizes, answers, all_done = [], [], threading.Event()
    real = batch_module.send_many

    def recording(requests):
        sizes.append(len(requests))
        return real(requests)

    monkeypatch.setattr(send_queue, "send_many", recording)
    sends = SendQueue(clean_app, max_batch=8)
    release = threading.Event()

    def first_done(outcome):  # holds the worker until every other send is queued behind it
        answers.append(outcome)
        release.wait(5)

    sends.submit(request(buyer, group_id, "c0"), first_done)
    for i in range(1, 20):
        sends.submit(request(buyer, group_id, f"c{i}"),
                     lambda outcome: (answers.append(outcome), len(answers) == 20 and all_done.set()))
    release.set()
    assert all_done.wait(10)
    assert all(isinstance(a, SendResult) and a.created for a in answers)
    assert [a.message["client_id"] for a in answers] == [f"c{i}" for i in range(20)]
    assert [a.message["seq"] for a in answers] == list(range(1, 21))
    assert sum(sizes) == 20 and max(sizes) == 8 and len(sizes) < 20


def test_the_worker_leaves_when_idle_and_comes_back_with_the_next_send(clean_app, factory, chat):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    sends = SendQueue(clean_app, idle_s=0.05)
    for i in range(3):
        done = threading.Event()
        got = []
        sends.submit(request(seller, group_id, f"s{i}"), lambda outcome: (got.append(outcome), done.set()))
        assert done.wait(10) and got[0].message["seq"] == i + 1
        for _ in range(200):  # the worker ends after idle_s without a send
            if not sends._running:
                break
            threading.Event().wait(0.01)
        assert not sends._running


class Killed(BaseException):
    """What a worker killed mid-batch (e.g. gevent's GreenletExit at shutdown) looks like to it."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_killed_worker_is_replaced_by_the_next_send(clean_app, factory, chat, monkeypatch):
    buyer, seller = factory.user(), factory.user()
    group_id = chat.item_group(buyer, seller)
    real = batch_module.send_many
    calls = []

    def killed_once(requests):
        calls.append(len(requests))
        if len(calls) == 1:
            raise Killed()
        return real(requests)

    monkeypatch.setattr(send_queue, "send_many", killed_once)
    sends = SendQueue(clean_app)
    sends.submit(request(buyer, group_id, "lost"), lambda outcome: None)  # unanswered: the client resends
    for _ in range(500):
        if not sends._running:
            break
        threading.Event().wait(0.01)
    assert calls == [1] and not sends._running
    done, got = threading.Event(), []
    sends.submit(request(buyer, group_id, "next"), lambda outcome: (got.append(outcome), done.set()))
    assert done.wait(10) and got[0].message["client_id"] == "next"
