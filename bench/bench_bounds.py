"""Bounded connectors: how long a trickling server holds a call, and how much memory a 50 MB answer costs.

Against a real local server (devtools/hostile.py): a REST and a SOAP call to a server that sends one byte a second,
with a 2 s deadline; and a 50 MB answer (with and without Content-Length) with a 4 MiB cap, measured as the peak
growth of traced Python memory (tracemalloc) and of the process's resident set (ru_maxrss cannot go down, so the
RSS figure is the growth of the high-water mark). Baseline from the same run: the 50 MB answer read whole
(cap above its size), which is what every call cost before the cap.
Run: ``.venv/bin/python -m bench.bench_bounds`` (about 15 s); writes bench/results/bounds.txt.
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from connectors.errors import Bounds
from connectors.http import Endpoint, Timeouts, pooled_session
from devtools.hostile import HUGE_BYTES, hostile_server
from foundation.credentials import Credentials
from foundation.errors import HubError
from mappings.vendors import profile
from systems.motcua.connector import SoapConnector

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "bounds.txt"
WSDL = ROOT / "simulators" / "contracts" / "motcua.wsdl"
DEADLINE = 2.0
CAP = 4 * 1024 * 1024
MIB = 1024 * 1024


def _endpoint(url: str, cap: int = CAP) -> Endpoint:
    return Endpoint(
        "hostile",
        pooled_session(2),
        base_url=url,
        timeouts=Timeouts(connect=1.0, read=30.0),
        bounds=Bounds(deadline=DEADLINE, max_answer_bytes=cap),
    )


def _rest(url: str, cap: int = CAP) -> Callable[[], object]:
    endpoint = _endpoint(url, cap)
    return lambda: endpoint.fetch("DongBoHoSoMC", "POST", url, json={"data": []})


def _soap(url: str) -> Callable[[], object]:
    connector = SoapConnector(_endpoint(url), profile("default"), Credentials("hub", SecretStr("x")), wsdl=str(WSDL))
    return lambda: connector._operation("health", "KiemTraKetNoi", {})


def _run(call: Callable[[], object]) -> tuple[str, float, float, float]:
    tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    started = time.monotonic()
    try:
        call()
        outcome = "accepted"
    except HubError as exc:
        outcome = exc.error_class
    elapsed = time.monotonic() - started
    peak = (tracemalloc.get_traced_memory()[1] - before) / MIB
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    return outcome, elapsed, peak, rss


def main() -> None:
    lines = [f"deadline {DEADLINE:g} s, cap {CAP // MIB} MiB, huge answer {HUGE_BYTES // MIB} MiB"]
    with hostile_server(trickle_every=1.0) as url:
        cases: list[tuple[str, Callable[[], object]]] = [
            ("REST  trickle 1 byte/s", _rest(url + "/trickle")),
            ("SOAP  trickle 1 byte/s", _soap(url + "/trickle")),
            ("REST  50 MiB with Content-Length", _rest(url + "/huge")),
            ("REST  50 MiB without Content-Length", _rest(url + "/huge/unsized")),
            ("SOAP  50 MiB without Content-Length", _soap(url + "/huge/unsized")),
            # last: the RSS high-water mark it leaves behind would hide the others' growth
            ("baseline: the same answer read whole", _rest(url + "/huge/unsized", cap=HUGE_BYTES + 1)),
        ]
        for name, call in cases:
            outcome, elapsed, peak, rss = _run(call)
            lines.append(
                f"{name:40s} {outcome:18s} {elapsed:6.2f} s  traced peak +{peak:6.1f} MiB  max RSS +{rss:6.1f} MiB"
            )
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
