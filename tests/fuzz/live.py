"""Run the Schemathesis CLI against a served app: every check, every phase (stateful links included)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.factories import PASSWORD
from tests.fuzz.world import World

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
SPEC_PATH = "/api/v1/openapi.json"
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass
class Outcome:
    """What a run said: its exit code and output (the failures, when there are any)."""

    returncode: int
    output: str

    @property
    def passed(self) -> bool:
        return self.returncode == 0


def run_schemathesis(base_url: str, world: World, *, seed: int, max_examples: int, report_dir: Path,
                     workers: int = 1, timeout: float | None = None) -> Outcome:
    """`st run` over the document `base_url` serves, with the world's tokens; never raises on failures."""
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "FUZZ_BASE_URL": base_url,
           "FUZZ_TOKENS": json.dumps({"user": world.user.token, "admin": world.admin.token,
                                      "username": world.user.username, "password": PASSWORD,
                                      "protected": [world.user.id, world.admin.id],
                                      "bystander": world.bystander_id}),
           "PYTHONPATH": str(HERE.parents[1])}
    cmd = [sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(CONFIG), "run",
           f"{base_url}{SPEC_PATH}", "--checks", "all", "--phases", PHASES, "--seed", str(seed),
           # replaced by positive_data_acceptance_within_rules (tests/fuzz/hooks.py, see schemathesis.toml)
           "--exclude-checks", "positive_data_acceptance",
           "--max-examples", str(max_examples), "--workers", str(workers), "--continue-on-failure",
           "--report", "ndjson", "--report-dir", str(report_dir)]
    timeout = timeout or 900 + 30 * max_examples  # a stuck run fails the test instead of hanging the suite
    done = subprocess.run(cmd, cwd=HERE.parents[1], env=env, capture_output=True, text=True, timeout=timeout)
    return Outcome(done.returncode, done.stdout + done.stderr)
