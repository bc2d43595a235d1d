"""gunicorn.conf.py's worker hook: a worker freezes what loading made, so the collector's full passes skip it
(BENCHMARKS.md: `make run` at P=100 spent 1.5 s of 66 s in the collector, 0.6 s frozen). Run in a process of
its own: freezing is for the whole interpreter."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HOOK = """
import gc, runpy
hooks = runpy.run_path("gunicorn.conf.py")
before = gc.get_freeze_count()
hooks["post_worker_init"](type("Worker", (), {})())  # a worker without the app: nothing to close on stop
print(before, gc.get_freeze_count())
"""


def test_a_worker_freezes_what_loading_made(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", HOOK], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True, timeout=60)
    before, after = map(int, out.stdout.split()[-2:])
    assert before == 0
    assert after > 1_000, "post_worker_init froze nothing"
