"""The simulators' own capacity, so hub benchmarks can show the simulators are not their bottleneck.

Starts ``dvc-hub simulate`` as a separate process, then measures for a bounded time: SOAP ``LayChiTietHoSo``
requests/s (raw requests POST, 4 client threads) against a ``KiemTraKetNoi`` baseline, and portal ``DongBoHoSoMC``
dossiers/s in batches of 50 against a ``LayThuTuc`` baseline. Writes the figures to bench/results/simulators.txt.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "simulators.txt"
SECONDS = 5.0
THREADS = 4
WSSE = (
    '<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
    'secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>hub</wsse:Username><wsse:Password>hub-secret'
    "</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>"
)


def envelope(body: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:motcua:hoso:v1">'
        f"{WSSE}<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rate(work: Callable[[requests.Session], int]) -> float:
    """Units of work per second over SECONDS with THREADS clients."""
    deadline = time.perf_counter() + SECONDS

    def loop() -> int:
        done = 0
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                done += work(session)
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        total = sum(pool.map(lambda _: loop(), range(THREADS)))
    return total / (time.perf_counter() - started)


def main() -> None:
    soap_port, portal_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dvc-hub"),
            "simulate",
            "--soap-port",
            str(soap_port),
            "--portal-port",
            str(portal_port),
            "--seed",
            "1",
            "--dossiers",
            "2000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        soap_url, portal = f"http://127.0.0.1:{soap_port}/motcua", f"http://127.0.0.1:{portal_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(soap_url, timeout=1)
                requests.get(f"{portal}/inspect/stats", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the simulators did not start") from None
                time.sleep(0.2)
        codes = _codes(soap_url)
        health = envelope("<m:KiemTraKetNoi/>")
        details = [
            envelope(f"<m:LayChiTietHoSo><m:MaDonVi>517</m:MaDonVi><m:MaHoSo>{c}</m:MaHoSo></m:LayChiTietHoSo>")
            for c in codes
        ]
        headers = {"Content-Type": "text/xml"}

        def soap_health(s: requests.Session) -> int:
            s.post(soap_url, data=health, headers=headers, timeout=10).raise_for_status()
            return 1

        def soap_detail(s: requests.Session) -> int:
            s.post(
                soap_url, data=details[int(time.perf_counter() * 1e6) % len(details)], headers=headers, timeout=10
            ).raise_for_status()
            return 1

        token = requests.post(
            f"{portal}/dvcqg/auth", json={"username": "hub", "password": "hub-secret"}, timeout=5
        ).json()["session"]
        catalogue = requests.post(
            f"{portal}/dvcqg/integration", json={"session": token, "service": "LayDanhSachTTHC"}, timeout=10
        ).json()["data"]
        counter = iter(range(10**9))

        def portal_lookup(s: requests.Session) -> int:
            s.post(
                f"{portal}/dvcqg/integration",
                json={"session": token, "service": "LayThuTuc", "maTTHC": catalogue[0]["MaTTHC"]},
                timeout=10,
            )
            return 1

        def portal_batch(s: requests.Session) -> int:
            batch = [
                {
                    "MaHoSo": f"000.00.17.H47-231002-{next(counter) % 10000:04d}",
                    "MaTTHC": catalogue[i % len(catalogue)]["MaTTHC"],
                    "TenTTHC": "Thủ tục",
                    "ChuHoSo": "Lê Văn A",
                    "KenhThucHien": "2",
                    "TrangThaiHoSo": "4",
                    "NgayTiepNhan": "20231002080000",
                    "NgayHenTra": "20231010170000",
                    "GhiChu": f"PhienBan={next(counter)}",
                }
                for i in range(50)
            ]
            reply = s.post(
                f"{portal}/dvcqg/integration",
                json={"session": token, "service": "DongBoHoSoMC", "isUpdating": "True", "data": batch},
                timeout=10,
            )
            return sum(1 for r in reply.json()["data"] if r["error_code"] in ("0", "25"))

        figures = {
            "soap KiemTraKetNoi requests/s (baseline)": rate(soap_health),
            "soap LayChiTietHoSo requests/s": rate(soap_detail),
            "portal LayThuTuc requests/s (baseline)": rate(portal_lookup),
            "portal DongBoHoSoMC dossiers/s (batches of 50)": rate(portal_batch),
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
    names = list(figures)
    lines = [f"simulators capacity ({THREADS} client threads, {SECONDS:.0f} s each, separate process)"]
    lines += [f"  {name:<48} {value:10.1f}" for name, value in figures.items()]
    lines.append(f"  LayChiTietHoSo / KiemTraKetNoi ratio: {figures[names[1]] / figures[names[0]]:.2f}")
    lines.append(f"  DongBoHoSoMC dossiers/s / LayThuTuc requests/s: {figures[names[3]] / figures[names[2]]:.2f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


def _codes(soap_url: str) -> list[str]:
    feed = envelope(
        "<m:LayDanhSachHoSoThayDoi><m:MaDonVi>517</m:MaDonVi><m:TuNgay>2023-01-01T00:00:00+07:00"
        "</m:TuNgay><m:SoLuongToiDa>200</m:SoLuongToiDa></m:LayDanhSachHoSoThayDoi>"
    )
    reply = requests.post(soap_url, data=feed, headers={"Content-Type": "text/xml"}, timeout=10).text
    return [part.split("<", 1)[0] for part in reply.split("<tns:MaHoSo>")[1:]]


if __name__ == "__main__":
    main()
