"""DoD 4 of issue 11: every field the canonical model marks personal is masked wherever a viewer can look.

A dossier whose personal fields hold distinctive values goes through the real pipeline (poll, sync, deliveries to
the portal and to the copy of the commune that received it, a failed try and a retry), so the store's redacted
payloads, the dossier versions and the integration log's redacted requests and responses are the hub's own. Then
the console serves that store: no page or API answer a viewer gets may hold any of the values, while an operator's
does (which proves the search would see them).
"""

from __future__ import annotations

import html
import json
import typing
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import select

from connectors.errors import Resolution, Verdict, to_error
from console import queries
from console.app import Console
from foundation.redaction import personal_fields
from hub.store.db import Database
from hub.store.models import Attempt, Message
from hub.store.models import Dossier as DossierRow
from hub.sync import request_poll
from mappings.canonical import Dossier
from tests.admin import seed
from tests.admin.conftest import login
from tests.conftest import Serve
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, DISTRICT, T0, dossier_code, progress, record

CODE = dossier_code(COMMUNE, 77)
# Values found nowhere else in the suite's data, in the shapes the one-stop-shop sends them.
APPLICANT = {
    "HoTen": "Hoàng Thị Zênh Phúc",
    "SoGiayTo": "079384756201",
    "MaDoiTuong": "TKDVC-ZQ-558213",
    "Email": "zenh.phuc.8841@example.vn",
    "SoDienThoai": "+84 987 654 321",
    "DiaChi": "Tổ 9, thôn Zênh Xá, xã Tam Quang",
}
SUMMARY = f"Đăng ký khai sinh cho con của {APPLICANT['HoTen']}"
# Free text, which names people as often as not (issue 27): the note, a file's name, what a supplement says.
FREE_TEXT = {
    "GhiChu": "Bà Zênh Phúc gọi lại số máy bàn",
    "file": "Giấy khai sinh Zênh Phúc bản chụp.pdf",
    "NoiDung": "Xin lỗi bà Zênh Phúc vì thiếu xác minh",
    "ThongTinTiepNhan": "Bà Zênh Phúc nộp tại quầy 3",
    "GiayTo": "Bản sao sổ hộ khẩu Zênh Xá",
}
# The one-stop-shop's default contract has no fax and no return information; nothing to leak
NOT_CARRIED = {"applicant.fax", "return_info"}


def _personal_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field marked personal in ``model`` and the models nested in it, as dotted paths."""
    paths = {prefix + name for name in personal_fields(model)}
    for name, info in model.model_fields.items():
        for candidate in _types(info.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                paths |= _personal_paths(candidate, f"{prefix}{name}.")
    return paths


def _types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types(arg)


def _value(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list):  # a list of records (files, supplements): the first one's
            data = data[0] if data else None
        data = data.get(part) if isinstance(data, dict) else None
    return data[0] if isinstance(data, list) and data else data


@pytest.fixture
def pipeline_log(db: Database) -> dict[str, str]:
    """The hub's own log of one liên thông dossier; returns the personal values as the hub stored them, by path."""
    with running_hub(db) as hub:
        # Given the dossier received by the commune and decided by the district, with steps, and a portal that
        # fails once before it accepts
        rec = record(CODE, version=2, status=9, processing_unit=DISTRICT)
        rec["ChuHoSo"] = {**rec["ChuHoSo"], **APPLICANT}
        rec["TrichYeu"] = SUMMARY  # summaries name the applicant, as real ones do
        rec["GhiChu"] = FREE_TEXT["GhiChu"]
        rec["DanhSachTepDinhKem"] = {"TepDinhKem": [{"Id": "F1", "Ten": FREE_TEXT["file"]}]}
        supplement = {"Id": "B1", "NoiDung": FREE_TEXT["NoiDung"], "ThongTinTiepNhan": FREE_TEXT["ThongTinTiepNhan"]}
        rec["DanhSachBoSung"] = {"BoSung": [{**supplement, "GiayTo": [FREE_TEXT["GiayTo"]]}]}
        rec["DanhSachTienDo"] = [progress(2, T0, "Tiếp nhận"), progress(9, T0, "Đã xử lý xong", DISTRICT)]
        # whose answer names the applicant, as portals do
        said = f"Không lưu được hồ sơ của {APPLICANT['HoTen']}, CCCD {APPLICANT['SoGiayTo']}"
        answer = Verdict(Resolution.RETRY, status_code=503, remote_message=said)
        refusal = to_error(answer, system="dvcqg", operation="push_dossiers", dossier_code=CODE)
        hub.portal.fail("push_dossiers", refusal)
        hub.source.put(DISTRICT, rec, updated_at=rec["NgayCapNhat"])

        # When the district is polled and everything is delivered
        request_poll(hub.db, "motcua-quangnam", DISTRICT, reason="test")
        hub.drain()

    with db.session() as session:
        stored = session.get(DossierRow, CODE)
        assert stored is not None, "the dossier did not reach the store"
        data = stored.data
    values = {path: _value(data, path) for path in _personal_paths(Dossier) - NOT_CARRIED}
    assert all(values.values()), f"the test dossier must fill every personal field: {values}"
    return {path: str(value) for path, value in values.items()}


def _leaks(text: str, values: dict[str, str]) -> dict[str, str]:
    shown = html.unescape(text)
    raw = {f"raw {key}": value for key, value in {**APPLICANT, **FREE_TEXT}.items()}
    return {path: value for path, value in {**values, **raw}.items() if value in shown}


def test_every_personal_field_has_a_value_to_hide() -> None:
    # The list is the canonical model's own: a new personal field makes this test fill it, or say why it cannot
    assert _personal_paths(Dossier) == {
        "applicant.name",
        "applicant.id_number",
        "applicant.portal_account_id",
        "applicant.email",
        "applicant.phone",
        "applicant.fax",
        "applicant.address",
        "summary",
        "note",
        "return_info",
        "files.name",
        "supplements.content",
        "supplements.receipt_info",
        "supplements.papers",
    }


def test_the_stores_redacted_copies_hold_no_personal_value(db: Database, pipeline_log: dict[str, str]) -> None:
    with db.session() as session:
        messages = list(session.scalars(select(Message)))
        tries = list(session.scalars(select(Attempt)))
    assert {m.kind for m in messages} == {"poll", "sync", "deliver"}
    assert any(a.outcome == "retrying" for a in tries) and all(a.request_redacted for a in tries if a.request)

    redacted: dict[str, Any] = {
        **{f"message {m.id} ({m.kind}) payload_redacted": m.payload_redacted for m in messages},
        **{f"message {m.id} ({m.kind}) error_message": m.error_message for m in messages},
        **{f"attempt {a.id} request_redacted": a.request_redacted for a in tries},
        **{f"attempt {a.id} response_redacted": a.response_redacted for a in tries},
        **{f"attempt {a.id} error_message": a.error_message for a in tries},
    }
    with db.session() as session:  # the dossier's versions as the console reads them for a viewer
        redacted["timeline"] = queries.timeline(session, CODE, personal=False)
        whole = queries.timeline(session, CODE, personal=True)
    found = {where: leaks for where, value in redacted.items() if (leaks := _leaks(_text(value), pipeline_log))}
    assert found == {}

    # and the unredacted copies do hold them: the search above would have seen them
    assert _leaks(_text([a.request for a in tries]), pipeline_log)
    assert _leaks(_text([a.remote_message for a in tries]), pipeline_log)  # the portal's words, for operators
    assert _leaks(_text(whole), pipeline_log).keys() >= pipeline_log.keys()


@pytest.fixture
def console_client(start_console: Serve, db: Database, pipeline_log: dict[str, str]) -> Iterator[httpx.Client]:
    seed.users(db)
    for live in start_console(Console(db=db)):
        with httpx.Client(base_url=live.url, timeout=30) as client:
            yield client


def test_no_page_or_api_answer_a_viewer_gets_holds_a_personal_value(
    console_client: httpx.Client, db: Database, pipeline_log: dict[str, str]
) -> None:
    with db.session() as session:
        ids = list(session.scalars(select(Message.id)))
    pages = ["/", f"/search?dossier_code={CODE}", "/search", f"/dossiers/{CODE}", "/operations", "/incidents"]
    pages += [f"/messages/{i}" for i in ids]
    api = [f"/api/v1/messages?dossier_code={CODE}", "/api/v1/messages", f"/api/v1/dossiers/{CODE}"]
    api += ["/api/v1/dashboard", "/api/v1/targets", *[f"/api/v1/messages/{i}" for i in ids]]

    login(console_client, "viewer")
    seen: dict[str, dict[str, str]] = {}
    for path in pages + api:
        response = console_client.get(path, follow_redirects=True)  # a dossier's message: its timeline
        assert response.status_code == 200, (path, response.status_code)
        if leaks := _leaks(response.text, pipeline_log):
            seen[path] = leaks
    assert seen == {}

    # while an operator, who may see personal data, finds them on the same pages
    console_client.cookies.clear()
    login(console_client, "operator")
    assert _leaks(console_client.get(f"/dossiers/{CODE}").text, pipeline_log)
    assert _leaks(console_client.get(f"/api/v1/dossiers/{CODE}").text, pipeline_log)


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
