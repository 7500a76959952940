"""Renders the official workbook and the apology letter as LibreOffice prints them (headless, to PDF, then a PNG of
each page with poppler's pdftoppm), for the slow test that checks the printed pages and for the README's images:
``PYTHONPATH=. .venv/bin/python -m tests.reports.rendering`` writes them into ``docs/screenshots/``."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from foundation.topology import load
from hub.store.db import Database
from migrations import upgrade
from reports.apology import render
from reports.official import write_official
from reports.periods import parse_period
from reports.rules import Rules
from reports.service import Reports
from tests.conftest import ROOT, TOPOLOGIES
from tests.reports import cases

OUT = ROOT / "docs" / "screenshots"
PACKAGES = ("libreoffice-calc-nogui", "libreoffice-writer-nogui", "poppler-utils", "fonts-liberation")


def ensure_tools() -> None:
    """Install LibreOffice and poppler from Debian's packages when they are missing (the test's own setup)."""
    if shutil.which("soffice") and shutil.which("pdftoppm"):
        return
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES], check=True, env=env)


def to_pdf(document: Path, folder: Path) -> Path:
    """The document printed to PDF by LibreOffice headless, with a profile of its own (no shared state)."""
    profile = folder / "lo-profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), str(document)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return folder / f"{document.stem}.pdf"


def pages(pdf: Path) -> list[tuple[float, float]]:
    """Each page's size in points (width, height), as pdfinfo reports it."""
    count = re.search(r"Pages:\s+(\d+)", _pdfinfo(pdf))
    assert count is not None
    last = int(count[1])
    found = []
    for number in range(1, last + 1):
        info = _pdfinfo(pdf, "-f", str(number), "-l", str(number))
        match = re.search(rf"Page\s+{number} size:\s+([\d.]+) x ([\d.]+)", info)
        assert match is not None, info
        found.append((float(match[1]), float(match[2])))
    return found


def to_png(pdf: Path, stem: Path, page: int = 1) -> Path:
    """One page of ``pdf`` as a PNG at 80 dpi, written to ``stem``.png."""
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(stem)], check=True, timeout=60)  # fmt: skip
    return stem.with_suffix(".png")


def documents(folder: Path) -> tuple[Path, Path]:
    """The October 2023 fixed set's official workbook and one apology letter, written into ``folder``."""
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        cases.store(db, cases.facts(cases.QUANG_NAM))
        topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
        reports = Reports(db, topology, Rules())
        october, now = parse_period("2023-10"), cases.QUANG_NAM_NOW
        workbook = write_official(
            folder / "bieu-mau-2023-10.xlsx",
            topology=topology,
            period=october,
            forms=reports.forms(october, now),
            late=reports.late(october, now),
            now=now,
        )
        found = reports.letter(cases.by_name(cases.QUANG_NAM, "extended after the deadline"), now)
        assert found is not None
        letter = render(found, folder / "phieu-xin-loi.docx")
    finally:
        db.dispose()
    return workbook, letter


def _pdfinfo(pdf: Path, *args: str) -> str:
    return subprocess.run(["pdfinfo", *args, str(pdf)], check=True, capture_output=True, text=True).stdout


if __name__ == "__main__":
    ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        workbook, letter = documents(Path(tmp))
        sheets = to_pdf(workbook, Path(tmp))
        for number, name in enumerate(("bieu-06b-cap-huyen", "bieu-06a-cap-xa", "so-theo-doi"), start=1):
            print(to_png(sheets, OUT / name, number))
        print(to_png(to_pdf(letter, Path(tmp)), OUT / "phieu-xin-loi"))
