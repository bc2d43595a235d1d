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
from tests.support.wechat_server import WeChatServer

#: examples per operation in the fuzzing phase; `make fuzz` raises it
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("FUZZ_SEED", "20261128"))
#: gunicorn workers: the run is bound by requests served, one per core
WORKERS = 2
#: Schemathesis runs one thread: CPython 3.11.7 keeps the ast module's recursion depth per process, not per
#: thread, so two generating threads compiling at once crash with "AST constructor recursion depth mismatch"
FUZZ_THREADS = 1


def wechat_settings(wechat: WeChatServer) -> dict[str, str]:
    """The server's WeChat settings, pointing at the stand-in."""
    return {"WECHAT_APPID": wechat.state.appid, "WECHAT_SECRET": wechat.state.secret,
            "WECHAT_API_BASE": wechat.base, "WECHAT_TEMPLATE_ID": wechat.state.template_id}


@pytest.mark.slow
def test_schemathesis_finds_no_failure_against_the_production_server(clean_app, database_url, tmp_path):
    world = build_world(clean_app.test_client())
    # WeChat is configured and reachable, as in production: our stand-in answers what the real one would.
    with WeChatServer() as wechat, GunicornServer(tmp_path, database_url=database_url, workers=WORKERS,
                                                  env=wechat_settings(wechat)) as server:
        # The world's upload was stored by the in-process app: the server serves it from its own folder.
        shutil.copytree(clean_app.config["UPLOAD_DIR"], server.directory / "uploads", dirs_exist_ok=True)
        outcome = run_schemathesis(server.url, world, seed=SEED, max_examples=EXAMPLES,
                                   report_dir=tmp_path / "reports", workers=FUZZ_THREADS)
    assert outcome.passed, outcome.output[-30000:]
    assert " passed" in outcome.output, outcome.output[-3000:]
