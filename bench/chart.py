"""Draw bench/relay's results: delivered msgs/s and p99 latency against load, PaiPai and the reference.

    make bench-chart      # reads bench/results/relay.json, writes bench/relay.png
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
STYLE = {"pg": ("PaiPai: PostgreSQL + Redis, 2 workers", "tab:blue", "o"),
         "sqlite": ("PaiPai: embedded SQLite, 1 worker", "tab:green", "s"),
         "reference": ("Flask-SocketIO + Redis, 2 workers", "tab:red", "^"),
         "reference1": ("Flask-SocketIO + Redis, 1 worker", "tab:orange", "v")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default=str(HERE / "results" / "relay.json"))
    parser.add_argument("--out", default=str(HERE / "relay.png"))
    args = parser.parse_args()
    data = json.loads(Path(args.results).read_text())
    medians = data["medians"]
    loads = sorted({(m["pairs"], m["in_flight"]) for m in medians}, key=lambda pw: (pw[0] * pw[1], pw))
    labels = [f"P={p}\nW={w}" for p, w in loads]
    fig, (ax_t, ax_l) = plt.subplots(1, 2, figsize=(12, 4.8))
    for target, (label, color, marker) in STYLE.items():
        points = {(m["pairs"], m["in_flight"]): m for m in medians if m["target"] == target}
        if not points:
            continue
        xs = [i for i, pw in enumerate(loads) if pw in points]
        ax_t.plot(xs, [points[loads[i]]["msgs_s"] for i in xs], marker=marker, color=color, label=label)
        ax_l.plot(xs, [points[loads[i]]["p99_ms"] for i in xs], marker=marker, color=color, label=label)
    for ax, title, unit in ((ax_t, "Delivered messages per second", "msgs/s"),
                            (ax_l, "Send-to-receive latency, p99", "ms")):
        ax.set_xticks(range(len(loads)), labels)
        ax.set_xlabel("load: P buyer–seller pairs, W messages in flight per sender")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    ax_l.set_yscale("log")
    ax_t.legend(fontsize=8)
    machine = data.get("machine", {})
    fig.suptitle(f"bench/relay, medians of {data['args']['repeat']} runs, {machine.get('cores')} cores "
                 f"(PaiPai commits every message; the reference stores nothing)", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
