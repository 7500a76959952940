"""Run the benchmarks one after another: ``python -m bench [name ...]`` (names like ``hub`` or ``mappings``).

Each benchmark prints its figures and writes them to ``bench/results/<name>.txt``; they run in turn because they
measure a shared two-core machine and must not compete with each other.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    available = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = names or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    failed = 0
    for name in chosen:
        print(f"=== bench_{name}", flush=True)
        failed += subprocess.call([sys.executable, "-m", f"bench.bench_{name}"], cwd=HERE.parent) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
