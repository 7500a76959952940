"""Take the README's report screenshots: ``PYTHONPATH=. .venv/bin/python -m tests.reports.screenshots``.

Stores the fixed October 2023 dossiers of the register and indicator tests (and September's, for month over month)
with one reconciliation run, serves the console and captures "Hồ sơ trễ hạn", "Chỉ số" and "Đối soát" with Debian's
Chromium into ``docs/screenshots/``.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import sync_playwright

from console.app import Console
from foundation.topology import load
from hub.store.db import Database
from migrations import upgrade
from reports.models import ReconciliationRun
from tests.admin import seed
from tests.admin.test_browser import CHROMIUM_ARGS
from tests.conftest import ROOT, TOPOLOGIES
from tests.reports import cases
from tests.servers import serve

OUT = ROOT / "docs" / "screenshots"
PAGES = (
    ("reports-late", "/reports/late?period=2023-10"),
    ("reports-indicators", "/reports/indicators?period=2023-10"),
    ("reports-reconciliation", "/reports/reconciliation"),
)


def september() -> tuple[cases.Case, ...]:
    """October's cases a month earlier, received on the same days, as last month's comparison."""
    moved = []
    for case in cases.QUANG_NAM:
        if case.received.month != 10:
            continue
        shift = {f: getattr(case, f).replace(month=9) for f in ("received", "appointment", "finished",
                 "first_appointment") if getattr(case, f) is not None}  # fmt: skip
        moved.append(replace(case, supplements=(), progress=(), **shift))
    return tuple(moved)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'console.sqlite3'}"
        upgrade(url)
        db = Database(url)
        seed.users(db)
        facts = cases.facts(cases.QUANG_NAM)
        cases.store(
            db, facts + [f for f in cases.facts(september()) if f.dossier.code not in {x.dossier.code for x in facts}]
        )
        with db.session() as session:
            session.add(
                ReconciliationRun(
                    unit_code="20971", source="motcua-quangnam", target="dvcqg",
                    range_from=cases.at(cases.D(2023, 10, 1)), range_to=cases.at(cases.D(2023, 10, 31)), sample=1.0,
                    listed=3, checked=3, finished_at=cases.QUANG_NAM_NOW,
                    differences=[
                        {"dossier_code": facts[2].dossier.code, "kind": "mismatched", "source_status": 9,
                         "portal_status": 4},
                        {"dossier_code": facts[5].dossier.code, "kind": "missing", "source_status": 4},
                    ],
                )
            )  # fmt: skip
        for live in serve(Console(db=db, topology=load(TOPOLOGIES / "quang-nam-2023.yaml"))):
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(live.url + "/login")
                page.get_by_label("Tên đăng nhập").fill("operator")
                page.get_by_label("Mật khẩu").fill(seed.PASSWORD)
                page.get_by_role("button", name="Đăng nhập").click()
                page.wait_for_url(live.url + "/")
                for name, path in PAGES:
                    page.goto(live.url + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                browser.close()
        db.dispose()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
