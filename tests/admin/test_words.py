"""Every console page as an operator reads it, in Vietnamese: no internal code (state, kind, error class, incident,
audit action, role, level; the list is generated from the code's enums) outside its label's tooltip or a code
column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from console import pages as console_pages
from console import reports as report_views
from console.alerts import IncidentKind
from console.app import Console
from console.auth import Role, create_user
from console.models import Incident
from foundation.topology import load
from hub import procedures
from hub.store.db import Database
from hub.store.models import AuditAction, AuditEntry, Dossier
from tests.admin import seed
from tests.admin.conftest import csrf_of
from tests.admin.test_history import STEP
from tests.conftest import Serve
from tests.servers import Live
from tests.vocabulary import bare_in_html

# A username that is no code of any family, so that the header and the audit log show no role name as a name.
ADMIN = "quantri"
TOPOLOGIES = Path(__file__).resolve().parents[2] / "config" / "topologies"
# The path parameters of the pages, filled with the seeded rows.
_PARAMS = {"code": seed.PARKED_CODE}


def _pages(seeded: seed.Seeded) -> list[str]:
    """Every HTML page the console serves, from its routes (a new page is scanned without editing this test)."""
    pages = []
    for route in [*console_pages.router.routes, *report_views.pages.routes]:
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or set()) or route.path.startswith("/api"):
            continue
        if route.response_class is not HTMLResponse:
            continue
        params = {**_PARAMS, "message_id": str(seeded.parked_message)}
        pages.append(route.path.format(**params))
    return pages


@pytest.fixture
def day(start_console: Serve, db: Database) -> Iterator[tuple[httpx.Client, seed.Seeded]]:
    # Given a log with a delivered dossier and one parked by the portal, an admin, an open incident and a replay job
    seeded = seed.log(db)
    with db.session() as session:
        create_user(session, ADMIN, seed.PASSWORD, Role.ADMIN)
        # every incident kind and every audit action once, with details whose values are codes, so that every
        # label of those families is on a page
        for kind in IncidentKind:
            session.add(Incident(key=f"{kind}:dvcqg", kind=kind, subject="dvcqg", state="open", summary="Cổng DVCQG"))
        details = {"role": Role.OPERATOR.value, "state": "parked", "error_class": "mapping_missing", "mode": "fresh"}
        for action in AuditAction:
            session.add(AuditEntry(username=ADMIN, action=action, subject="1", details=details))
    live: Live
    for live in start_console(Console(db=db)):
        with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
            token = csrf_of(client)
            form = {"username": ADMIN, "password": seed.PASSWORD, "csrf": token, "next": "/"}
            assert client.post("/login", data=form).status_code == 303
            token = csrf_of(client)
            assert client.post("/incidents/evaluate", data={"csrf": token}).status_code == 303
            job = {"csrf": token, "state": "parked", "mode": "original"}
            assert client.post("/replay/jobs", data=job).status_code == 303
            yield client, seeded


def test_every_page_shows_labels_not_internal_codes(day: tuple[httpx.Client, seed.Seeded]) -> None:
    client, seeded = day
    pages = _pages(seeded)
    assert {"/", "/search", "/audit", "/users", "/incidents", "/replay", "/operations"} <= set(pages)
    bare = {}
    for page in [*pages, "/search?state=parked&since=2000-01-01T00:00"]:
        response = client.get(page, follow_redirects=True)  # a message opens on its dossier's page
        assert response.status_code == 200, (page, response.status_code)
        if found := bare_in_html(response.text):
            bare[page] = sorted(set(found))
    assert bare == {}


def test_the_scan_sees_the_codes_a_page_would_leak(day: tuple[httpx.Client, seed.Seeded]) -> None:
    # The seeded log holds the codes the scan looks for: the pages show them in tooltips, so the scan is not blind.
    client, _ = day
    page = client.get("/search", params={"state": "parked", "since": "2000-01-01T00:00"}).text
    assert 'title="parked"' in page and 'title="remote_rejected"' in page
    audit = client.get("/audit").text
    assert all(f'title="{action}"' in audit for action in AuditAction)
    incidents = client.get("/incidents").text
    assert all(f'title="{kind}"' in incidents for kind in IncidentKind)
    assert bare_in_html(page.replace('title="parked">', ">parked ")) == ["parked"]


@pytest.fixture
def named(start_console: Serve, db: Database) -> Iterator[httpx.Client]:
    # Given the seeded log on Đà Nẵng's topology of 2025 (20965 is Xã Núi Thành since 1 July 2025)
    seed.log(db)
    with db.session() as session:
        create_user(session, ADMIN, seed.PASSWORD, Role.ADMIN)
    topology = load(TOPOLOGIES / "da-nang-2025.yaml")
    for live in start_console(Console(db=db, topology=topology)):
        with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as client:
            form = {"username": ADMIN, "password": seed.PASSWORD, "csrf": csrf_of(client), "next": "/"}
            assert client.post("/login", data=form).status_code == 303
            yield client


def test_units_targets_and_procedures_are_shown_by_name_with_the_code_beside(named: httpx.Client, db: Database) -> None:
    procedures.set_mapping(db, "NT-HT-001", "1.001193", procedure_name="Đăng ký khai sinh", user=ADMIN)
    page = named.get("/search", params={"since": "2000-01-01T00:00"}).text
    assert 'Đăng ký khai sinh <span class="code">(NT-HT-001)</span>' in page
    assert "Xã Núi Thành (20965)" in page and "Cổng DVCQG" in page
    assert '<option value="20968">Xã Tam Xuân I (20968) (cũ, nay thuộc Xã Tam Xuân (20971))</option>' in page
    dashboard = named.get("/").text
    assert "Huyện Núi Thành (517) (cũ, nay thuộc Thành phố Đà Nẵng (48))" in dashboard  # its lag, by name


def test_an_unknown_unit_is_named_as_the_operators_mistake(named: httpx.Client) -> None:
    page = named.get("/search", params={"unit_code": "5177", "since": "2000-01-01T00:00"}).text
    assert "Không có đơn vị mã 5177 trong cấu hình topology" in page
    assert seed.PARKED_CODE not in page


def test_the_dossier_page_shows_the_processing_steps_and_named_changes(named: httpx.Client, db: Database) -> None:
    with db.session() as session:
        dossier = session.get(Dossier, seed.CODE)
        assert dossier is not None
        dossier.data = {**dossier.data, "progress": [STEP]}
    page = named.get(f"/dossiers/{seed.CODE}").text
    assert "Quá trình xử lý" in page and "Thẩm định hồ sơ" in page and "Chuyên viên" in page
    assert "Xã Tam Xuân I (20968) (cũ, nay thuộc Xã Tam Xuân (20971))" in page  # the step's unit, by name
    assert "30/10/2023 17:00" in page  # its due time, in Vietnam time
    # the seeded second version changed the summary and the status: labelled fields, not paths
    assert "Trích yếu hồ sơ (TrichYeuHoSo)" in page and "Trạng thái (TrangThaiHoSo)" in page
    assert "<code>summary</code>" not in page
