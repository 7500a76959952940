"""Issue 27, DoD 2: personal values rewritten as portals and officials rewrite them reach no viewer and no log line.

Hypothesis writes a citizen ID, a phone number and an e-mail address in rewritten forms, and the name of *another*
dossier's applicant (a batch's follower) in decomposed Unicode, capitals or without accents, into every free text a
viewer can read: a batched delivery's refusal (message and try), the dossier's note, an apology's reason. A viewer's
pages, API answers and monthly workbook, and the log line of the parked message, must hold none of them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from io import BytesIO
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select, update

from console.app import Console
from foundation import logs
from foundation.redaction import hiding, personal_strings
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import Attempt, Message, MessageState
from hub.store.models import Dossier as DossierRow
from systems.registry import kind_of
from tests.admin import seed
from tests.admin.conftest import login
from tests.conftest import TOPOLOGIES, Serve
from tests.foundation.test_redaction_rewrites import emails, id_numbers, known_rewrites, phones, survives
from tests.reports import cases
from tests.servers import Live

LATE = "received by Tam Xuân II before the merger, late"
LEADER = "received by Xã Núi Thành, late open, no apology"
FOLLOWER = "received by Tam Quang before the merger, open on time"
REASON = {"round_id": "GH-0708", "requested_at": "2025-07-08T10:00:00+07:00"}


@pytest.fixture
def live(start_console: Serve, db: Database) -> Iterator[Live]:
    # Given the July 2025 register, whose late dossier apologised, and a batch the portal refused: its leader's
    # message, whose try carried the follower's record too
    seed.users(db)
    found = list(cases.DA_NANG)
    late = next(i for i, c in enumerate(found) if c.name == LATE)
    apology = cases.extension(date(2025, 7, 8), date(2025, 7, 7), date(2025, 7, 12), "Chờ xác minh")
    found[late] = replace(found[late], supplements=(apology,))
    cases.store(db, cases.facts(tuple(found)))
    cases.polled(db, cases.DA_NANG_NOW)
    leader, follower = cases.by_name(cases.DA_NANG, LEADER), cases.by_name(cases.DA_NANG, FOLLOWER)
    batch = {"batch": [{"record": {"MaHoSo": code, "ChuHoSo": "?"}} for code in (leader, follower)]}
    with db.session() as session:
        message = Message(kind="deliver", actor="deliver_dossier", queue="deliver", dossier_code=leader,
                          target="dvcqg", state=MessageState.PARKED.value, error_class="RemoteRejected")  # fmt: skip
        session.add(message)
        session.flush()
        session.add(Attempt(message_id=message.id, number=1, outcome="parked", started_at=cases.DA_NANG_NOW,
                            request=batch, request_redacted=batch))  # fmt: skip
    yield from start_console(Console(db=db, topology=load(TOPOLOGIES / "da-nang-2025.yaml")))


@pytest.fixture
def viewer(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        login(client, "viewer")
        yield client


def _write(db: Database, text: str, follower_name: str) -> tuple[int, dict[str, Any]]:
    """Put ``text`` in every free text a viewer may read; returns the message's id and the batch's request."""
    codes = {name: cases.by_name(cases.DA_NANG, name) for name in (LATE, LEADER, FOLLOWER)}
    with db.session() as session:
        rows = {code: session.get(DossierRow, code) for code in codes.values()}
        for row in rows.values():
            assert row is not None
        rows[codes[FOLLOWER]].data = {**rows[codes[FOLLOWER]].data, "applicant": {"name": follower_name}}  # type: ignore[union-attr]
        # each its own words around the text: a note is a known value, masked wherever it is quoted whole
        rows[codes[LEADER]].data = {**rows[codes[LEADER]].data, "note": f"Ghi chú: {text}"}  # type: ignore[union-attr]
        late = rows[codes[LATE]]
        assert late is not None
        late.data = {**late.data, "supplements": [{**late.data["supplements"][0], "content": f"Lý do: {text}"}]}
        message = session.scalars(select(Message).where(Message.kind == "deliver")).one()
        message.error_message = message.remote_message = text
        session.execute(update(Attempt).where(Attempt.message_id == message.id).values(error_message=text))
        records = [{"MaHoSo": codes[LEADER]}, {"MaHoSo": codes[FOLLOWER], "ChuHoSo": follower_name}]
        request = {"batch": [{"record": r} for r in records]}
        return message.id, request


def _workbook_text(content: bytes) -> str:
    book = load_workbook(BytesIO(content), read_only=True)
    return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if cell)


def _log_line(request: dict[str, Any], text: str) -> str:
    """The ``message_parked`` line as the hub's log processor writes it, the batch's records in scope (as
    ``hub.middleware`` puts them)."""
    kind_of("dvcqg-session")  # the portal's wire names (ChuHoSo) join the one list, as the worker's first delivery does
    with hiding(personal_strings(request)):
        event = logs.redact(None, "warning", {"event": "message_parked", "error": text, "remote_message": text})
    return " ".join(str(v) for v in event.values())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.one_of(id_numbers(), phones()), email=emails(), name=known_rewrites())
def test_no_viewer_page_answer_workbook_or_log_line_shows_a_rewritten_value(
    viewer: httpx.Client,
    db: Database,
    number: tuple[str, str],
    email: tuple[str, str],
    name: tuple[str, str],
) -> None:
    # Given a refusal, a note and an apology's reason that quote the values rewritten, and the follower's name
    text = f"Không lưu được hồ sơ của {name[0]}, số {number[0]}, thư {email[0]}: thiếu giấy tờ"
    message_id, request = _write(db, text, name[1])
    leader = cases.by_name(cases.DA_NANG, LEADER)

    # When a viewer reads every place the text shows, and the hub logs the parked message
    shown: dict[str, str] = {}
    for path in [
        f"/messages/{message_id}",
        f"/dossiers/{leader}",
        f"/search?dossier_code={leader}",
        f"/api/v1/messages/{message_id}",
        f"/api/v1/messages?dossier_code={leader}",
        f"/api/v1/dossiers/{leader}",
        "/reports/late?period=2025-07",
        "/api/v1/reports/late?period=2025-07",
    ]:
        answer = viewer.get(path, follow_redirects=True)
        assert answer.status_code == 200, (path, answer.status_code)
        shown[path] = html.unescape(answer.text)
    book = viewer.get("/reports/monthly.xlsx?month=2025-07")
    assert book.status_code == 200
    shown["workbook"] = _workbook_text(book.content)
    shown["log"] = _log_line(request, text)

    # Then none of them holds any of the values, and the text around them is still there to read
    leaks = {where: [v for v in (number, email, name) if survives(seen, v[0], v[1])] for where, seen in shown.items()}
    assert {where: found for where, found in leaks.items() if found} == {}
    assert re.search("thiếu giấy tờ", shown[f"/messages/{message_id}"]), "the refusal must be on the page at all"
    assert "thiếu giấy tờ" in shown["log"]


def test_an_apologys_reason_is_masked_for_viewers_only(live: Live, viewer: httpx.Client, db: Database) -> None:
    _write(db, "gọi bà Zênh", "Hoàng Thị Zênh Phúc")
    with httpx.Client(base_url=live.url, timeout=30) as operator:
        login(operator, "operator")
        for client, sees in ((operator, True), (viewer, False)):
            book = _workbook_text(client.get("/reports/monthly.xlsx?month=2025-07").content)
            late = client.get("/api/v1/reports/late?period=2025-07").json()
            reasons = [e["reason"] for row in late["rows"] for e in row["extensions"]]
            assert ("Lý do: gọi bà Zênh" in reasons) if sees else (set(reasons) == {"***"}), reasons
            assert ("Lý do: gọi bà Zênh" in book) is sees
