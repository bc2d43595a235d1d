"""The README's production command, as the one source for the benchmark, the tests and the Dockerfile check."""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

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
