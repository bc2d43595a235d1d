"""Bounded schemathesis run over the whole API (fixed seed); `make fuzz` runs a longer campaign."""
from __future__ import annotations

import os

import pytest

from tests.fuzz.campaign import run_campaign
from tests.fuzz.world import build_world

#: examples per operation and generation mode; `make fuzz` raises it
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))


@pytest.mark.slow
def test_no_operation_errors_or_breaks_its_documented_contract_under_fuzzing(client):
    report = run_campaign(client.application, build_world(client), max_examples=EXAMPLES, seed_value=SEED)
    assert not report.failures, report.summary()
    statuses = {status for _label, status in report.calls}
    assert any(200 <= s < 300 for s in statuses), "the fuzzer never got a success: the world is not reachable"
