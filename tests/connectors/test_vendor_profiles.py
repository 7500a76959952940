"""A second one-stop-shop vendor, with other operation and element names, is synced through configuration alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import responses
from lxml import etree

from connectors.recording import ExchangeLog, redact_body
from foundation.clock import VN_TZ
from foundation.topology import System
from mappings.vendors import VendorProfile, from_default, load_profile, to_default
from systems import registry
from tests.connectors.conftest import FIXTURES, envelope

URL = "http://vendorb.test/ws"
NS = "urn:vendorb:dossier:2"
CODE = "000.01.17.H47-240301-0007"

DOSSIER = f"""<dossier><dossierNo>{CODE}</dossierNo><receivingUnit>20965</receivingUnit>
<procedureCode>NT-HT-001</procedureCode><procedureName>Đăng ký khai sinh</procedureName><channel>2</channel>
<applicant><fullName>Nguyễn Văn An</fullName><kind>1</kind><idNumber>049201000123</idNumber></applicant>
<state>4</state><receivedAt>2024-03-01T08:15:00+07:00</receivedAt>
<steps><step><handler>Trần Thị Bình</handler><at>2024-03-01T08:15:00+07:00</at><content>Tiếp nhận</content>
<state>2</state></step></steps><revision>3</revision><modifiedAt>2024-03-01T09:00:00+07:00</modifiedAt></dossier>"""


def _vendor_b_server(wire: responses.RequestsMock, seen: list[etree._Element]) -> None:
    """A tiny vendor-B service: answers by the operation element's name, remembers each request body."""

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        body = etree.fromstring(request.body)
        operation = body.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
        seen.append(operation)
        name = etree.QName(operation).localname
        if name == "ListChanged":
            cursor = operation.findtext(f"{{{NS}}}cursor")
            entries = (
                ""
                if cursor
                else f"<entry><dossierNo>{CODE}</dossierNo><revision>3</revision>"
                "<modifiedAt>2024-03-01T09:00:00+07:00</modifiedAt></entry>"
            )
            more = "" if cursor else "<cursor>page-2</cursor>"
            xml = f'<ListChangedResult xmlns="{NS}"><page>{entries}</page>{more}</ListChangedResult>'
        elif name == "FetchDossier":
            xml = f'<FetchDossierResult xmlns="{NS}">{DOSSIER}</FetchDossierResult>'
        else:
            xml = f'<SetStateResult xmlns="{NS}"><outcome>applied</outcome><revision>4</revision></SetStateResult>'
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, envelope(xml)

    wire.add_callback(responses.POST, URL, callback=reply)


@pytest.fixture
def vendor_b(monkeypatch: pytest.MonkeyPatch) -> System:
    monkeypatch.setenv("DVC_HUB_CRED_VENDORB_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_VENDORB_PASSWORD", "vendor-b-secret")
    return System(
        name="motcua-vendorb",
        kind="soap",
        base_url=URL,
        credentials="vendorb",
        options={"vendor_file": str(FIXTURES / "vendor-b.yaml"), "password_digest": True},
    )


def test_a_second_vendor_syncs_through_its_profile_alone(vendor_b: System) -> None:
    log = ExchangeLog()
    seen: list[etree._Element] = []
    source = registry.build_source(vendor_b, recorder=log)
    target = registry.build_target(vendor_b, recorder=log)
    with responses.RequestsMock() as wire:
        _vendor_b_server(wire, seen)
        # When the hub polls and fetches through the Source interface
        first = source.fetch_changes("20965", datetime(2024, 3, 1, tzinfo=VN_TZ))
        last = source.fetch_changes("20965", datetime(2024, 3, 1, tzinfo=VN_TZ), first.next_token)
        record = source.get_dossier("20965", first.items[0].dossier_code)
        # and pushes a district's decision back in the default shape
        results = target.push_dossiers(
            "20965",
            [
                {
                    "MaHoSo": CODE,
                    "TrangThai": 9,
                    "PhienBanNguon": 5,
                    "DanhSachTienDo": {
                        "TienDo": [
                            {
                                "NguoiXuLy": "Lê Văn C",
                                "ThoiDiem": datetime(2024, 3, 2, 10, tzinfo=VN_TZ),
                                "NoiDung": "Phê duyệt",
                                "TrangThai": 9,
                            }
                        ]
                    },
                }
            ],
        )

    # Then the feed, the record and the push all speak the default vendor's names
    assert [(r.dossier_code, r.version) for r in first.items] == [(CODE, 3)]
    assert first.next_token == "page-2" and last.items == [] and last.next_token is None
    assert record["MaHoSo"] == CODE
    assert record["ChuHoSo"] == {"HoTen": "Nguyễn Văn An", "LoaiDoiTuong": 1, "SoGiayTo": "049201000123"}
    assert record["DanhSachTienDo"]["TienDo"][0]["NguoiXuLy"] == "Trần Thị Bình"
    assert record["TrangThai"] == 4 and record["PhienBan"] == 3
    assert results[0].ok and results[0].created
    update = seen[-1]
    assert etree.QName(update).localname == "SetState"
    assert update.findtext(f"{{{NS}}}dossierNo") == CODE
    assert update.findtext(f"{{{NS}}}sourceRevision") == "5"
    assert update.findtext(f"{{{NS}}}steps/{{{NS}}}step/{{{NS}}}handler") == "Lê Văn C"
    # and the envelopes are recorded as they went over the wire, without the WS-Security header, and their
    # viewers' copy (made with the vendor's own personal names) hides the applicant
    recorded = log.take()
    assert len(recorded) == 4
    fetched = next(e for e in recorded if e.operation == "FetchDossier")
    assert "Nguyễn Văn An" in (fetched.response or "")
    shown = redact_body(fetched.response, personal=fetched.personal) or ""
    assert "Nguyễn Văn An" not in shown and "049201000123" not in shown and CODE in shown
    assert all("vendor-b-secret" not in e.request and "Security" not in e.request for e in recorded)


def test_renaming_round_trips() -> None:
    vendor = load_profile(FIXTURES / "vendor-b.yaml")
    raw = {"dossierNo": CODE, "applicant": {"fullName": "A", "kind": 1}, "steps": {"step": [{"handler": "B"}]}}
    default = to_default(raw, vendor)
    assert default == {
        "MaHoSo": CODE,
        "ChuHoSo": {"HoTen": "A", "LoaiDoiTuong": 1},
        "DanhSachTienDo": {"TienDo": [{"NguoiXuLy": "B"}]},
    }
    assert from_default(default, vendor) == raw


def test_an_ambiguous_profile_is_refused() -> None:
    base = load_profile(FIXTURES / "vendor-b.yaml").model_dump(exclude={"source"})
    with pytest.raises(ValueError, match="ambiguous"):
        VendorProfile.model_validate({**base, "renames": {"a": "MaHoSo", "b": "MaHoSo"}})


def test_a_vendors_own_placeholder_day_reaches_the_mapping_as_absent() -> None:
    base = load_profile(FIXTURES / "vendor-b.yaml").model_dump(exclude={"source"})
    vendor = VendorProfile.model_validate({**base, "unknown_dates": ["1753-01-01"]})
    raw = {
        "dossierNo": CODE,
        "receivedAt": "1753-01-01T00:00:00",
        "modifiedAt": datetime(2024, 3, 1, 9, tzinfo=VN_TZ),
        "steps": {"step": [{"at": datetime(1753, 1, 1, tzinfo=VN_TZ), "handler": "B"}]},
    }
    default = to_default(raw, vendor)
    assert default["NgayTiepNhan"] is None
    assert default["DanhSachTienDo"]["TienDo"][0]["ThoiDiem"] is None
    assert default["NgayCapNhat"] == datetime(2024, 3, 1, 9, tzinfo=VN_TZ)
    assert default["MaHoSo"] == CODE
