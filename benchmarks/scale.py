"""Benchmark: the cost of `cdv synth`, `cdv validate` and `cdv build` as the number of documents grows.

Not a test: it prints figures. See benchmarks/README.md.

    .venv/bin/python benchmarks/scale.py [--sizes 1 100 1000] [--seed 1] [--workdir DIR] [--jobs N]

For each size N it writes N synthetic documents, validates them and builds them into a fresh store, each
command a subprocess of its own fresh measuring process, and reports its wall time, its CPU time (the command
and its worker processes) and the peak resident memory of its largest process; then, for each step, the
growth factor from one size to the next: how much more it cost divided by how many more documents
(1.0 = linear).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDV = [sys.executable, "-m", "server"]
STEPS = ("synth", "validate", "build")

# Run by a fresh interpreter: its children's rusage is then the command's alone (RUSAGE_CHILDREN covers the
# waited-for descendants, so the validation workers are counted).
MEASURE = """
import json, resource, subprocess, sys, time
began = time.monotonic()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
wall = time.monotonic() - began
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}))
"""


@dataclass(frozen=True)
class Cost:
    """What one command cost."""

    size: int
    step: str
    code: int
    wall: float
    cpu: float
    rss_mb: float


def measure(size: int, step: str, command: list[str]) -> Cost:
    """Run `command` under a fresh measuring interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return Cost(size, step, **json.loads(done.stdout))


def commands(size: int, workdir: Path, seed: int, jobs: list[str]) -> dict[str, list[str]]:
    data, store = workdir / f"data-{size}", workdir / f"store-{size}"
    return {
        "synth": [*CDV, "synth", "--territories", str(size), "--out", str(data), "--seed", str(seed)],
        "validate": [*CDV, "validate", *jobs, str(data)],
        "build": [*CDV, "build", *jobs, "--data", str(data), "--store", str(store)],
    }


def growth(costs: list[Cost]) -> list[str]:
    """Per step and per pair of successive sizes: (cost ratio) / (size ratio) for wall and CPU time."""
    lines = []
    for step in STEPS:
        runs = sorted((c for c in costs if c.step == step), key=lambda c: c.size)
        for small, large in itertools.pairwise(runs):
            factor = large.size / small.size
            lines.append(
                f"{step:<9} N {small.size:>5} → {large.size:<5} (x{factor:g}): wall x{large.wall / small.wall:.1f} "
                f"(growth {large.wall / small.wall / factor:.2f}), CPU x{large.cpu / small.cpu:.1f} "
                f"(growth {large.cpu / small.cpu / factor:.2f}), peak RSS x{large.rss_mb / small.rss_mb:.2f}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, help="where to write data and stores (default: a temp dir)")
    parser.add_argument("--jobs", type=int, help="validation processes (default: one per core)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cdv-scale-"))
    print(f"{'N':>6} {'step':<9} {'exit':>4} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}")
    costs = []
    for size in args.sizes:
        for step, command in commands(size, workdir, args.seed, jobs).items():
            cost = measure(size, step, command)
            costs.append(cost)
            print(
                f"{size:>6} {step:<9} {cost.code:>4} {cost.wall:>8.1f} {cost.cpu:>8.1f} {cost.rss_mb:>12.0f}"
            )
    print()
    print("\n".join(growth(costs)))
    print(f"\n(data and stores in {workdir})")
    if args.json:
        args.json.write_text(json.dumps([asdict(c) for c in costs], indent=2), "utf-8")


if __name__ == "__main__":
    main()
