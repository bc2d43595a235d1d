"""The README's production command, as the one source for the benchmark, the tests and the Dockerfile check."""
from __future__ import annotations

import http.client
import os
import re
import shlex
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.support.databases import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def readme_command() -> list[str]:
    """The `gunicorn …` line of the README's "Running in production" section, split like a shell would."""
    section = README.read_text(encoding="utf-8").split("## Running in production", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.S) for line in block.splitlines()]
    found = [line for line in lines if re.match(r"\S*gunicorn\s", line)]
    assert len(found) == 1, f"the production section should hold one gunicorn command, found {found}"
    return shlex.split(found[0])


def serve_command(*, workers: int, bind: str) -> list[str]:
    """The README's command run by this interpreter, with only the worker count and address changed."""
    cmd = readme_command()
    assert cmd[0].endswith("gunicorn")
    cmd = [sys.executable, "-m", "gunicorn", *cmd[1:]]
    for flag, value in (("-w", str(workers)), ("-b", bind)):
        cmd[cmd.index(flag) + 1] = value
    return cmd


def server_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This environment with the app's settings replaced: testing, its folders and control socket in `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
    env.update(APP_ENV="testing", INSTANCE_DIR=str(tmp_path), UPLOAD_DIR=str(tmp_path / "uploads"),
               XDG_RUNTIME_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


@contextmanager
def readme_server(tmp_path: Path, workers: int = 1, preexec=None, **settings: str):
    """The README's gunicorn command on a free port; yields (base url, log path) once /healthz answers."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(serve_command(workers=workers, bind=f"127.0.0.1:{port}"), cwd=ROOT,
                                   env=server_env(tmp_path, **settings), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=preexec)
    try:
        deadline = time.monotonic() + 30
        while status(port, "/healthz") != 200:
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield f"127.0.0.1:{port}", log_path
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(5)


def status(port: int, path: str) -> int | None:
    """The status of GET `path`, None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()
