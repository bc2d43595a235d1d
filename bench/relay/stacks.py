"""Summarize py-spy's collapsed stacks (`--profile` of bench.relay): where the server's samples go.

    .venv/bin/python -m bench.relay.stacks bench/results/profile/sqlite-20x8-1/*.txt
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def load(paths: list[str]) -> list[tuple[list[str], int]]:
    stacks = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            frames, _, count = line.rpartition(" ")
            if frames:
                stacks.append((frames.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    # "func (path/to/file.py:123)" -> "func (file.py)"
    name, _, where = frame.partition(" (")
    file = where.rsplit("/", 1)[-1].split(":")[0]
    return f"{name} ({file})"


def main(paths: list[str], top: int = 40) -> None:
    stacks = load(paths)
    total = sum(c for _, c in stacks)
    self_time, inclusive = Counter(), Counter()
    for frames, count in stacks:
        self_time[short(frames[-1])] += count
        for frame in {short(f) for f in frames}:
            inclusive[frame] += count
    print(f"{total} samples")
    print("\nself time:")
    for frame, count in self_time.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {frame}")
    print("\ninclusive time:")
    for frame, count in inclusive.most_common(top * 2):
        print(f"  {100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1:])
