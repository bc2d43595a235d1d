"""Guarantee under chaos (the short version of `bench/chaos.py`): ten buyer–seller pairs chat through
two gunicorn processes while sockets drop at random, Redis restarts and one app process is SIGKILLed
and started again; nothing acknowledged is lost, nothing is delivered twice or out of order."""
from __future__ import annotations

import os

import pytest

from tests.support.chaos import run_chaos

pytestmark = [pytest.mark.slow, pytest.mark.chaos, pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="the chaos run needs PostgreSQL (two gunicorn processes share a schema): set TEST_DATABASE_URL")]


def test_chaos_run_loses_duplicates_and_reorders_nothing_and_acks_only_what_is_stored(tmp_path):
    report = run_chaos(tmp_path, pairs=10, messages=40, drop_every_s=0.25, timeout_s=240)
    assert report.bad() == {}, report.line()
    assert report.stored == report.sent == report.acked == 10 * 40
    assert report.delivered == 2 * report.stored  # each message to both members, the sender's as its ack
    assert report.redis_restarts == 1 and report.kills == 1 and report.drops > 0 and report.reconnects > 0
