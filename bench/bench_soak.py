"""Soak: the hub's workers under a steady trickle of changes for half an hour, and how their memory grows.

The same set-up as :mod:`bench.bench_hub`, shared with it (:func:`bench.bench_hub.rig`: simulators in their own
process, two Dramatiq worker processes x 8 threads, a Redis server of its own, a fresh PostgreSQL database). After a
warm-up that syncs the initial dossiers, the source changes once a second and every unit is polled, for
``BENCH_SOAK_SECONDS`` (1800 by default). The resident memory of the worker processes is read from /proc at the start
of the steady phase and at its end.

Run: ``.venv/bin/python -m bench.bench_soak``; writes bench/results/soak.txt.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests

from bench.bench_hub import (
    CpuMeter,
    _poll_all,
    _portal_deliveries,
    _sync_backlog,
    descendants,
    rig,
    start_workers,
    stop_workers,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "soak.txt"
SECONDS = int(os.environ.get("BENCH_SOAK_SECONDS", "1800"))
ADVANCE_HOURS = 0.25  # simulated time per second of the soak: a steady trickle of new and changed dossiers


def rss_mb(pids: set[int]) -> float:
    """Resident memory of the processes, in MB (VmRSS from /proc/<pid>/status)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total_kb / 1024


def main() -> None:
    with rig("soak") as r:
        control = r.sims.soap_url.rsplit("/", 1)[0] + "/_control/advance"
        workers = start_workers(r.env, r.workdir, ["hub.actors", "hub.worker_boot"], ["--skip-logging"])
        try:
            _sync_backlog(r.db, r.sims.at_source)  # warm-up: imports, WSDL, pools, the first sync
            pids = descendants(workers.pid) - {workers.pid}  # the worker processes, not their supervisor
            start = rss_mb(pids)
            meter = CpuMeter(workers=lambda: descendants(workers.pid))
            meter.start()
            delivered_before = _portal_deliveries(r.db)[2]
            started = time.monotonic()
            ticks = 0
            while time.monotonic() - started < SECONDS:
                tick = time.monotonic()
                requests.post(control, json={"hours": ADVANCE_HOURS}, timeout=30)
                _poll_all(r.db)
                ticks += 1
                time.sleep(max(0.0, tick + 1.0 - time.monotonic()))
            deadline = time.monotonic() + 120
            while _portal_deliveries(r.db)[1] and time.monotonic() < deadline:
                time.sleep(0.5)
            meter.stop()
            end = rss_mb(pids & descendants(workers.pid))
            messages = _portal_deliveries(r.db)[2] - delivered_before
        finally:
            stop_workers(workers)
    growth = (end - start) / start * 100 if start else 0.0
    lines = [
        f"soak: {SECONDS} s at one source change and one poll per unit per second ({ticks} ticks, {messages} hub"
        f" messages, worker cpu {meter.used['workers']:.0f} s)",
        f"worker rss: start {start:.0f} MB, end {end:.0f} MB ({growth:+.1f}%; goal < 10%)",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
