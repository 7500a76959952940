"""Take the README's console screenshots: ``PYTHONPATH=. .venv/bin/python -m tests.admin.screenshots``.

Seeds a throwaway SQLite database with a morning of traffic, serves the console on an ephemeral port and captures
the main pages with Debian's Chromium into ``docs/screenshots/``.
"""

from __future__ import annotations

import random
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from console.alerts import AlertSettings, evaluate
from console.app import Console
from foundation.clock import utcnow
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import Message, MessageState
from migrations import upgrade
from tests.admin import seed
from tests.admin.test_browser import CHROMIUM_ARGS
from tests.conftest import ROOT, TOPOLOGIES
from tests.servers import serve

OUT = ROOT / "docs" / "screenshots"


def traffic(db: Database) -> None:
    rng = random.Random(8)
    now = utcnow()
    with db.session() as session:
        for i in range(900):
            at = now - timedelta(seconds=rng.uniform(0, 3600))
            failing = at > now - timedelta(minutes=12) and rng.random() < 0.6
            state = MessageState.RETRYING if failing else MessageState.SUCCEEDED
            parked = rng.random() < 0.02
            session.add(
                Message(
                    kind="deliver",
                    actor="deliver_dossier",
                    state=(MessageState.PARKED if parked else state).value,
                    dossier_code=f"000.{rng.randint(1, 17):02d}.17.H47-{at:%y%m%d}-{i:04d}",
                    unit_code=str(20965 + rng.randint(0, 16) * 3),
                    procedure_code=rng.choice(["NT-HT-001", "NT-DD-042", "NT-XD-007"]),
                    target="dvcqg" if rng.random() < 0.7 else "motcua-quangnam:517",
                    attempts=3 if failing else 1,
                    error_class=("mapping_missing" if parked else "remote_unavailable") if failing or parked else None,
                    error_message="Thiếu mã TTHC quốc gia cho thủ tục NT-DD-042" if parked else None,
                    created_at=at,
                    updated_at=at + timedelta(seconds=2),
                )
            )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'console.sqlite3'}"
        upgrade(url)
        db = Database(url)
        seed.users(db)
        seed.log(db)
        traffic(db)
        evaluate(db, AlertSettings(failing_min_failures=5))
        for live in serve(Console(db=db, topology=load(TOPOLOGIES / "quang-nam-2023.yaml"))):
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                for username, pages in (
                    (
                        "operator",
                        [
                            ("dashboard", "/"),
                            ("search", f"/search?dossier_code={seed.PARKED_CODE}"),
                            ("timeline", f"/dossiers/{seed.CODE}"),
                            ("operations", "/operations"),
                            ("mappings", "/mappings"),
                        ],
                    ),
                    ("viewer", [("timeline-viewer", f"/dossiers/{seed.PARKED_CODE}")]),
                ):
                    page = browser.new_page(viewport={"width": 1280, "height": 900})
                    page.goto(live.url + "/login")
                    page.get_by_label("Tên đăng nhập").fill(username)
                    page.get_by_label("Mật khẩu").fill(seed.PASSWORD)
                    page.get_by_role("button", name="Đăng nhập").click()
                    page.wait_for_url(live.url + "/")
                    for name, path in pages:
                        page.goto(live.url + path)
                        for details in page.locator("article.msg details").all()[:2]:
                            details.evaluate("d => d.open = true")
                        page.screenshot(path=str(OUT / f"{name}.png"), full_page=name != "dashboard")
                    page.close()
                browser.close()
        db.dispose()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
