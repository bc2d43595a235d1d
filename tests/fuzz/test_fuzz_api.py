"""Schemathesis against the production server (gunicorn, gevent): every check, every phase, stateful links.

The bounded run of `make test` uses a fixed seed and a few examples per operation; `make fuzz`
raises FUZZ_EXAMPLES (and picks a new seed unless FUZZ_SEED is set) for a long campaign. Any
failure fails the test, with Schemathesis' own report of it (and `st replay` ids) in the message.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.fuzz.live import run_schemathesis
from tests.fuzz.world import build_world
from tests.support.servers import GunicornServer

#: examples per operation in the fuzzing phase; `make fuzz` raises it
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
#: gunicorn workers and Schemathesis workers: the run is bound by requests served, one per core
WORKERS = 2


@pytest.mark.slow
def test_schemathesis_finds_no_failure_against_the_production_server(clean_app, database_url, tmp_path):
    world = build_world(clean_app.test_client())
    with GunicornServer(tmp_path, database_url=database_url, workers=WORKERS) as server:
        # The world's upload was stored by the in-process app: the server serves it from its own folder.
        shutil.copytree(clean_app.config["UPLOAD_DIR"], server.directory / "uploads", dirs_exist_ok=True)
        outcome = run_schemathesis(server.url, world, seed=SEED, max_examples=EXAMPLES,
                                   report_dir=tmp_path / "reports", workers=WORKERS)
    assert outcome.passed, outcome.output[-30000:]
    assert " passed" in outcome.output, outcome.output[-3000:]
