"""Connector overhead: the SOAP connector per call against a raw ``requests`` POST of the same envelope, and the
REST connector's batched push rate against pushing one record per call and against raw batched POSTs.

The simulators run in their own process (so their CPU does not share this process's GIL); every figure is measured
in this run. Run: ``.venv/bin/python -m bench.bench_connectors`` (about 30 s); writes bench/results/connectors.txt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from lxml import etree

from foundation.clock import VN_TZ
from foundation.topology import System
from systems import registry
from systems.motcua.connector import SoapConnector

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "connectors.txt"
SOAP_CALLS = 300
REST_RECORDS = 600

_SERVER = """
import sys
from simulators.server import Simulators
from pathlib import Path
from foundation.topology import load
sims = Simulators(load(Path(sys.argv[1])), seed=3, dossiers=40).start()
unit = next(iter(sims.source_state().values()))
print(sims.soap_url, sims.portal_url, unit.MaDonViTiepNhan, unit.MaHoSo,
      sims.catalogue.procedures[0].national_code, flush=True)
sys.stdin.read()
sims.stop()
"""


def _timed(n: int, call: Callable[[], Any]) -> float:
    call()  # warm: connection pool, caches
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) / n


def main() -> None:
    os.environ.setdefault("DVC_HUB_CRED_BENCH_USERNAME", "hub")
    os.environ.setdefault("DVC_HUB_CRED_BENCH_PASSWORD", "hub-secret")
    topology = ROOT / "config" / "topologies" / "quang-nam-2023.yaml"
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(topology)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        soap_url, portal_url, unit, code, national = server.stdout.readline().split()
        lines = [*_soap(soap_url, unit, code), *_rest(portal_url, national)]
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


def _soap(url: str, unit: str, code: str) -> list[str]:
    system = System(name="bench-soap", kind="soap", base_url=url, credentials="bench", timeout=10)
    connector = registry.build_source(system)
    assert isinstance(connector, SoapConnector)
    # The same envelope the connector sends (PasswordText, so the raw POST may repeat it), posted by hand.
    envelope = etree.tostring(
        connector.client.create_message(connector.service, "LayChiTietHoSo", MaDonVi=unit, MaHoSo=code)  # type: ignore[no-untyped-call]
    )
    session = requests.Session()
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:motcua:hoso:v1/LayChiTietHoSo"'}

    def raw() -> None:
        response = session.post(url, data=envelope, headers=headers, timeout=10)
        response.raise_for_status()

    raw_s = _timed(SOAP_CALLS, raw)
    connector_s = _timed(SOAP_CALLS, lambda: connector.get_dossier(unit, code))
    changes_s = _timed(50, lambda: connector.fetch_changes(unit, datetime(2020, 1, 1, tzinfo=VN_TZ)))
    return [
        f"SOAP LayChiTietHoSo, {SOAP_CALLS} calls each, simulator in its own process",
        f"  raw requests POST of the same envelope : {raw_s * 1000:8.2f} ms/call",
        f"  SoapConnector.get_dossier (zeep)       : {connector_s * 1000:8.2f} ms/call",
        f"  connector overhead                     : {(connector_s - raw_s) * 1000:8.2f} ms/call"
        f"  (ratio connector/raw {connector_s / raw_s:.2f}x)",
        f"  SoapConnector.fetch_changes (1 page)   : {changes_s * 1000:8.2f} ms/call",
    ]


def _rest(portal_url: str, national: str) -> list[str]:
    counter = iter(range(1, 1_000_000))

    def records(n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            i = next(counter)
            out.append(
                {
                    "MaHoSo": f"000.00.{i // 10000 % 100:02d}.H47-231002-{i % 10000 or 1:04d}",
                    "MaTTHC": national,
                    "TenTTHC": "Thủ tục",
                    "ChuHoSo": "Nguyễn Văn An",
                    "KenhThucHien": "2",
                    "TrangThaiHoSo": "2",
                    "NgayTiepNhan": "20231002081500",
                }
            )
        return out

    def rate(batch_size: int, n: int) -> float:
        system = System(
            name=f"bench-dvcqg-{batch_size}",
            kind="dvcqg-session",
            base_url=f"{portal_url}/dvcqg",
            credentials="bench",
            batch_size=batch_size,
            timeout=30,
        )
        target = registry.build_target(system)
        batch = records(n)
        started = time.perf_counter()
        results = target.push_dossiers("517", batch)
        elapsed = time.perf_counter() - started
        assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
        return n / elapsed

    def raw_rate(n: int, batch_size: int) -> float:
        session = requests.Session()
        login = session.post(
            f"{portal_url}/dvcqg/auth", json={"username": "hub", "password": "hub-secret"}, headers={"dstcode": "517"}
        ).json()
        batch = records(n)
        started = time.perf_counter()
        for start in range(0, n, batch_size):
            body = {
                "session": login["session"],
                "madonvi": "517",
                "service": "DongBoHoSoMC",
                "isUpdating": "False",
                "data": batch[start : start + batch_size],
            }
            reply = session.post(f"{portal_url}/dvcqg/integration", json=body, headers={"dstcode": "517"}).json()
            assert str(reply["error_code"]) == "0", reply
        return n / (time.perf_counter() - started)

    batched = rate(50, REST_RECORDS)
    single = rate(1, REST_RECORDS // 4)
    raw = raw_rate(REST_RECORDS, 50)
    return [
        f"REST DongBoHoSoMC (session adapter), {REST_RECORDS} new records",
        f"  raw requests, batches of 50, no look-up: {raw:8.0f} records/s",
        f"  DvcqgConnector, batches of 50          : {batched:8.0f} records/s  (look-up per record, then upsert)",
        f"  DvcqgConnector, one record per call    : {single:8.0f} records/s",
        f"  batched vs one-per-call                : {batched / single:8.2f}x",
        f"  connector batched vs raw batched       : {batched / raw:8.2f}x  (the look-ups are the idempotence cost)",
    ]


if __name__ == "__main__":
    main()
