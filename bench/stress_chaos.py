"""Repeat the chaos matrix: ``python -m bench.stress_chaos --runs 5`` prints passes / runs per scenario.

A scenario that passes once may still lose dossiers one run in ten; this runs each scenario N times, at full size
(the one-stop-shop down and the portal hanging for a whole minute, unlike the suite's shortened outage), and prints
the first problem of each failed run. It is not part of ``python -m bench`` (it takes long: about 3 to 5 minutes per
run of a scenario on two cores). Writes bench/results/stress_chaos.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from devtools.chaos import matrix, run_scenario, services_for

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "stress_chaos.txt"
POSTGRES_ADMIN_URL = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--only", nargs="*", default=None, help="scenario names (default: all)")
    args = parser.parse_args(argv)
    scenarios = [s for s in matrix(args.outage_seconds) if not args.only or s.name in args.only]
    passes: Counter[str] = Counter()
    lines = []
    for run in range(1, args.runs + 1):
        for scenario in scenarios:
            started = time.monotonic()
            # kept when the run fails: the failure names its attempt log in there
            workdir = Path(tempfile.mkdtemp(prefix=f"chaos-{scenario.name}-"))
            try:
                with services_for(scenario, shared_postgres=POSTGRES_ADMIN_URL) as services:
                    problems = run_scenario(scenario, services, workdir, dossiers=args.dossiers, seed=run)
            except Exception as exc:  # a run that crashes (a drain that times out) is a failed run, not the end
                problems = [f"{type(exc).__name__}: {exc}"]
            passes[scenario.name] += not problems
            if not problems:
                shutil.rmtree(workdir, ignore_errors=True)
            verdict = "pass" if not problems else f"FAIL (kept in {workdir}) {' | '.join(problems)[:4000]}"
            line = f"run {run} {scenario.name}: {verdict} ({time.monotonic() - started:.0f} s)"
            print(line, flush=True)
            lines.append(line)
    summary = [f"{s.name}: {passes[s.name]}/{args.runs}" for s in scenarios]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    header = (
        f"chaos matrix x{args.runs}, {args.dossiers} dossiers, outages of {args.outage_seconds:g} s, "
        f"on {commit.strip() or 'an unknown commit'}, {time.strftime('%Y-%m-%d %H:%M')}\n"
        f"made by: python -m bench.stress_chaos {' '.join(argv)}"
    )
    print(header, *summary, sep="\n")
    RESULTS.write_text("\n".join([header, *summary, "", *lines]) + "\n", encoding="utf-8")
    return 0 if all(passes[s.name] == args.runs for s in scenarios) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
