"""The client SDK's own tests (`node --test` on sdk/test/*.test.js) against this suite's live server, on each
database: the WeChat adapter on a `wx` over real sockets and HTTP (hidden/shown, killed/restarted, a flapping
network, the old handler names); and its types: the adapter and the test `wx` checked against
miniprogram-api-typings, the .d.ts files compiled (tsc). Skipped when Node or the SDK's dev dependencies
(`npm ci` in sdk/) are missing."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "sdk"
pytestmark = pytest.mark.slow
PER_TEST_TIMEOUT_S = 120
RUN_TIMEOUT_S = 600


def _counts(tap: str) -> dict[str, int]:
    pattern = r"^# (tests|pass|fail|cancelled|skipped) (\d+)$"
    return {name: int(n) for name, n in re.findall(pattern, tap, re.MULTILINE)}


def _node_with(package: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("the SDK tests need Node (`apt-get install nodejs npm`; .ci/run installs it)")
    if not (SDK / "node_modules" / package).is_dir():
        pytest.skip(f"the SDK tests need its dev dependencies ({package}): `npm ci` in sdk/ (make test runs it)")
    return node


def test_the_sdk_types_check_against_the_wechat_typings():
    node = _node_with("typescript")
    result = subprocess.run([node, "node_modules/typescript/bin/tsc", "-p", "."], cwd=SDK, capture_output=True,
                            check=False, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_sdk_node_tests_pass_against_the_live_server(live_server):
    node = _node_with("ws")
    files = sorted(str(p.relative_to(SDK)) for p in (SDK / "test").glob("*.test.js"))
    env = {**os.environ, "PAIPAI_TEST_URL": live_server.url}
    # Each test is bounded, so one that hangs fails under its own name and the rest still run; and the
    # runner exits when the tests are done even if a client a failed test never destroyed keeps a timer.
    command = [node, "--test", "--test-reporter=tap", f"--test-timeout={PER_TEST_TIMEOUT_S * 1000}",
               "--test-force-exit", *files]
    with subprocess.Popen(command, cwd=SDK, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            pytest.fail(f"the SDK tests ran over {RUN_TIMEOUT_S} s; what they printed:\n"
                        f"{stdout[-8000:]}\n{stderr[-3000:]}")
    counts = _counts(stdout)
    print(f"sdk node tests: {counts}")
    failures = "\n".join(line for line in stdout.splitlines() if line.startswith("not ok"))
    assert process.returncode == 0 and counts.get("fail") == 0, (
        f"{counts}\n{failures}\n{stdout[-6000:]}\n{stderr[-3000:]}")
    assert counts["pass"] == counts["tests"] >= 10
