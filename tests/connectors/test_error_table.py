"""Every row of the error table, on the wire, for the REST connector and for the SOAP connector."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
import requests
import responses

from connectors.errors import (
    DEFAULT_TABLE,
    FAULT_MEANINGS,
    AnswerTooLarge,
    AuthenticationFailed,
    Bounds,
    DeadlineExceeded,
    ErrorTable,
    ForbiddenXml,
    RateLimited,
    RemoteNotFound,
    RemoteRejected,
    RemoteTimeout,
    RemoteUnavailable,
    Resolution,
    UnreadableAnswer,
    retry_after_seconds,
)
from connectors.recording import ExchangeLog
from foundation.clock import VN_TZ
from foundation.errors import HubError
from mappings.vendors import Faults, VendorProfile, profile
from systems.dvcqg.connector import DvcqgConnector, ServiceEnvelope, SessionLogin, portal_body
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS, PORTAL_URL, SOAP_URL, endpoint, envelope, fault

VIETNAMESE = "Mã TTHC 1.000046 không tồn tại trong CSDL quốc gia"
CAP = 256 * 1024  # the size cap of these tests' endpoints
TEXT_MAX = 300  # how much of a remote's error text they keep
BOUNDS = Bounds(deadline=10.0, max_answer_bytes=CAP, error_text_max=TEXT_MAX)
HEALTH_OK = envelope(
    '<KiemTraKetNoiResponse xmlns="urn:motcua:hoso:v1"><TrangThai>OK</TrangThai>'
    "<PhienBanDichVu>1</PhienBanDichVu><ThoiDiem>2024-03-01T08:00:00+07:00</ThoiDiem></KiemTraKetNoiResponse>"
)
# libxml2 refuses this ("entity amplification"), and zeep reported the refusal as a transport error: retried forever.
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + ']><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol9;</soap:Body>'
    "</soap:Envelope>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&xxe;</soap:Body>'
    "</soap:Envelope>"
)


@dataclass(frozen=True)
class Row:
    """One row of the table: what the remote does, what the caller must get, how many calls it takes."""

    name: str
    replies: tuple[dict[str, object], ...]  # kwargs for responses.add, in order
    expect: type[HubError] | None
    calls: int = 1
    retry_after: float | None = None
    remote_message: str | None = None


def _json(status: int = 200, **body: object) -> dict[str, object]:
    return {"status": status, "json": body}


def _raw(status: int, text: str = "", **headers: str) -> dict[str, object]:
    return {"status": status, "body": text, "headers": headers, "content_type": "text/html"}


OK_REST = _json(error_code=0, message="Thành công")

REST_ROWS = [
    Row("connection refused", ({"body": requests.ConnectionError("refused")},), RemoteUnavailable),
    Row("timeout", ({"body": requests.ReadTimeout("slow")},), RemoteTimeout),
    Row("unreadable 200", (_raw(200, "<html>gateway</html>"),), UnreadableAnswer),
    Row("truncated json 200", (_raw(200, '{"error_code": 0, "data": [{"MaHoSo": "0'),), UnreadableAnswer),
    Row("empty body 200", (_raw(200, ""),), UnreadableAnswer),
    Row("json nested past the parser's depth", (_raw(200, "[" * 100_000 + "]" * 100_000),), UnreadableAnswer),
    Row("xml with an entity bomb instead of json", (_raw(200, BOMB),), ForbiddenXml),
    Row("answer over the size cap", (_raw(200, "x" * (CAP + 1)),), AnswerTooLarge),
    Row(
        "a huge error text is cut",
        (_json(error_code="1", message="Lỗi " + "x" * 100_000),),
        RemoteRejected,
        remote_message="Lỗi " + "x" * (TEXT_MAX - 5) + "…",
    ),
    Row("http 302", (_raw(302, "moved"),), RemoteRejected),
    Row("http 401 then ok", (_raw(401, "expired"), OK_REST), None, calls=2),
    Row("http 401 twice", (_raw(401, "no"), _raw(401, "no")), AuthenticationFailed, calls=2),
    Row("http 408", (_raw(408),), RemoteTimeout),
    Row("http 429", (_raw(429, "slow down", **{"Retry-After": "7"}),), RateLimited, retry_after=7.0),
    Row("http 400", (_raw(400, VIETNAMESE),), RemoteRejected, remote_message=VIETNAMESE),
    Row("http 403", (_raw(403, "Forbidden"),), RemoteRejected),
    Row("http 404", (_raw(404, "Not Found"),), RemoteRejected),
    Row("http 500", (_raw(500, "boom"),), RemoteUnavailable),
    Row("http 502", (_raw(502),), RemoteUnavailable),
    Row("http 503", (_raw(503),), RemoteUnavailable),
    Row("portal 0", (_json(error_code=0),), None),
    Row("portal 00", (_json(error_code="00"),), None),
    Row("portal session expired then ok", (_json(error_code="-2", message="Phiên hết hạn"), OK_REST), None, calls=2),
    Row("portal transient", (_json(error_code="-9", message="Hệ thống bận"),), RemoteUnavailable),
    Row(
        "portal rejects inside 200",
        (_json(error_code="1", message=VIETNAMESE),),
        RemoteRejected,
        remote_message=VIETNAMESE,
    ),
]

SOAP_ROWS = [
    Row("connection refused", ({"body": requests.ConnectionError("refused")},), RemoteUnavailable),
    Row("timeout", ({"body": requests.ReadTimeout("slow")},), RemoteTimeout),
    Row("unreadable 200", (_raw(200, "<html>gateway</html>"),), UnreadableAnswer),
    Row("empty body 200", (_raw(200, ""),), UnreadableAnswer),
    Row("truncated xml 200", ({"status": 200, "body": HEALTH_OK[: len(HEALTH_OK) // 2]},), UnreadableAnswer),
    Row("entity bomb", ({"status": 200, "body": BOMB},), ForbiddenXml),
    Row("external entity", ({"status": 200, "body": XXE},), ForbiddenXml),
    Row("answer over the size cap", ({"status": 200, "body": HEALTH_OK + " " * CAP},), AnswerTooLarge),
    Row(
        "a huge fault text is cut",
        ({"status": 500, "body": fault("soap:Client", "Lỗi " + "x" * 100_000)},),
        RemoteRejected,
        remote_message="Lỗi " + "x" * (TEXT_MAX - 5) + "…",
    ),
    Row("http 302", (_raw(302, "moved"),), RemoteRejected),
    Row("http 401 twice", (_raw(401, "no"), _raw(401, "no")), AuthenticationFailed, calls=2),
    Row("http 408", (_raw(408),), RemoteTimeout),
    Row("http 429", (_raw(429, "slow", **{"Retry-After": "3"}),), RateLimited, retry_after=3.0),
    Row("http 400", (_raw(400, "bad"),), RemoteRejected),
    Row("http 503", (_raw(503, "<html>down</html>"),), RemoteUnavailable),
    Row(
        "fault Client",
        ({"status": 500, "body": fault("soap:Client.DuLieuKhongHopLe", VIETNAMESE, "VALIDATION")},),
        RemoteRejected,
        remote_message=VIETNAMESE,
    ),
    Row(
        "fault Sender",
        ({"status": 500, "body": fault("soap:Sender", VIETNAMESE)},),
        RemoteRejected,
        remote_message=VIETNAMESE,
    ),
    Row(
        "fault Server",
        ({"status": 500, "body": fault("soap:Server.LoiHeThong", "Lỗi hệ thống", "INTERNAL")},),
        RemoteUnavailable,
    ),
    Row("fault Receiver", ({"status": 500, "body": fault("soap:Receiver", "busy")},), RemoteUnavailable),
    Row(
        "fault auth twice",
        tuple({"status": 500, "body": fault("soap:Client.XacThuc", "Sai mật khẩu", "AUTH")} for _ in range(2)),
        AuthenticationFailed,
        calls=2,
    ),
    Row(
        "fault FailedAuthentication",
        tuple({"status": 500, "body": fault("wsse:FailedAuthentication", "no")} for _ in range(2)),
        AuthenticationFailed,
        calls=2,
    ),
    Row(
        "fault InvalidSecurityToken",
        tuple({"status": 500, "body": fault("wsse:InvalidSecurityToken", "no")} for _ in range(2)),
        AuthenticationFailed,
        calls=2,
    ),
    Row(
        "fault MessageExpired",
        tuple({"status": 500, "body": fault("wsse:MessageExpired", "stale")} for _ in range(2)),
        AuthenticationFailed,
        calls=2,
    ),
    Row("fault other code", ({"status": 500, "body": fault("ns:Whatever", "khác")},), RemoteRejected),
    Row(
        "error inside 200 body",
        ({"status": 200, "body": fault("soap:Client", VIETNAMESE, "VALIDATION")},),
        RemoteRejected,
        remote_message=VIETNAMESE,
    ),
    Row(
        "forbidden DTD",
        ({"status": 200, "body": '<!DOCTYPE x [<!ENTITY a "b">]>' + envelope("<x>&a;</x>").split("?>", 1)[1]},),
        ForbiddenXml,
    ),
    Row("ok", ({"status": 200, "body": HEALTH_OK},), None),
    # An ASP.NET vendor: faults with an empty <detail />, told apart by faultcode and faultstring (VENDOR_FAULTS).
    Row(
        "profile auth by text",
        ({"status": 500, "body": fault("soap:Server", "Sai thông tin xác thực", empty_detail=True)},),
        AuthenticationFailed,
        calls=1,
    ),
    Row(
        "profile not_found by faultcode",
        ({"status": 500, "body": fault("soap:Client.KhongTimThay", VIETNAMESE, empty_detail=True)},),
        RemoteNotFound,
        remote_message=VIETNAMESE,
    ),
    Row(
        "profile park by code and pattern",
        ({"status": 500, "body": fault("soap:Server", "Mã hồ sơ X-1 không hợp lệ", empty_detail=True)},),
        RemoteRejected,
        remote_message="Mã hồ sơ X-1 không hợp lệ",
    ),
    Row(
        "profile retry by faultcode",
        ({"status": 500, "body": fault("q0:ERR_BUSY", "Hệ thống bận", empty_detail=True)},),
        RemoteUnavailable,
    ),
    Row(
        "profile detail code still first-class",
        ({"status": 500, "body": fault("soap:Client", VIETNAMESE, "NOT_FOUND")},),
        RemoteNotFound,
    ),
]
VENDOR_FAULTS = {
    "auth": [{"text": "sai thông tin xác thực"}],
    "not_found": ["NOT_FOUND", {"code": "Client.KhongTimThay"}],
    "park": [{"code": "Server", "pattern": r"^Mã hồ sơ \S+ không hợp lệ"}],
    "retry": [{"code": "ERR_BUSY"}],
}


def _vendor() -> VendorProfile:
    default = profile("default")
    faults = Faults.model_validate({**default.faults.model_dump(), **VENDOR_FAULTS})
    return default.model_copy(update={"faults": faults})


def _rest(log: ExchangeLog) -> DvcqgConnector:
    table = ErrorTable(reauth_codes=frozenset({"-2"}), retry_codes=frozenset({"-9"}))
    ep = endpoint(PORTAL_URL, log)
    ep.table = table
    ep.bounds = BOUNDS
    auth = SessionLogin(PORTAL_URL + "/auth", CREDS, body_check=portal_body(table), table=table)
    return DvcqgConnector(ep, auth, ServiceEnvelope(PORTAL_URL + "/integration"))


@pytest.mark.parametrize("row", REST_ROWS, ids=lambda r: r.name)
def test_rest_answers_are_classified_by_the_table(row: Row, exchanges: ExchangeLog) -> None:
    connector = _rest(exchanges)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, PORTAL_URL + "/auth", json={"error_code": 0, "session": "s-123456"})
        for reply in row.replies:
            wire.add(responses.POST, PORTAL_URL + "/integration", **reply)  # type: ignore[arg-type]
        _check(row, lambda: connector.call("LayDanhSachTTHC", "517", {}))
        assert len([c for c in wire.calls if (c.request.url or "").endswith("/integration")]) == row.calls
        logins = len([c for c in wire.calls if (c.request.url or "").endswith("/auth")])
        assert logins == (2 if row.calls == 2 else 1)


@pytest.mark.parametrize("row", SOAP_ROWS, ids=lambda r: r.name)
def test_soap_answers_are_classified_by_the_table(row: Row, exchanges: ExchangeLog) -> None:
    ep = endpoint(SOAP_URL, exchanges)
    ep.bounds = BOUNDS
    connector = SoapConnector(ep, _vendor(), CREDS, wsdl=str(CONTRACT_WSDL))
    with responses.RequestsMock() as wire:
        for reply in row.replies:
            wire.add(responses.POST, SOAP_URL, **reply)  # type: ignore[arg-type]
        _check(row, lambda: connector._operation("health", "KiemTraKetNoi", {}))
        assert len(wire.calls) == row.calls
    recorded = exchanges.take()
    assert len(recorded) == row.calls
    assert all("hub-secret-password" not in (e.request + (e.response or "") + (e.error or "")) for e in recorded)


def _check(row: Row, call: object) -> None:
    assert callable(call)
    if row.expect is None:
        call()
        return
    with pytest.raises(row.expect) as caught:
        call()
    error = caught.value
    assert type(error) is row.expect  # a subclass would be another row (RemoteNotFound is not a plain refusal)
    assert "hub-secret-password" not in str(error)
    if row.retry_after is not None:
        assert isinstance(error, RateLimited)
        assert error.retry_after == row.retry_after
    if row.remote_message is not None:
        assert isinstance(error, RemoteRejected)
        assert error.remote_message == row.remote_message  # verbatim, Vietnamese included


def test_every_row_of_the_table_has_a_wire_case() -> None:
    covered = {r.name for r in REST_ROWS} | {r.name for r in SOAP_ROWS}
    for status in DEFAULT_TABLE.http:
        assert any(f"http {status}" in name for name in covered), status
    for hundreds in DEFAULT_TABLE.http_classes:
        if hundreds != 2:
            assert any(name.startswith(f"http {hundreds}") for name in covered), hundreds
    for code in DEFAULT_TABLE.faults:
        assert any(code.lower() in name.lower() for name in covered), code
    for meaning in FAULT_MEANINGS:
        if meaning not in ("reauth", "permanent"):  # the default profile's detail codes: the "fault auth" rows
            assert any(name.startswith(f"profile {meaning}") for name in covered), meaning
    expected = {r.expect for r in REST_ROWS} | {r.expect for r in SOAP_ROWS}
    raised_by = {
        Resolution.UNREADABLE: UnreadableAnswer,
        Resolution.FORBIDDEN: ForbiddenXml,
        Resolution.TOO_LARGE: AnswerTooLarge,
        Resolution.DEADLINE: DeadlineExceeded,  # a real trickling server: tests/connectors/test_bounds.py
        Resolution.NOT_FOUND: RemoteNotFound,
    }
    for resolution in Resolution:
        if resolution is Resolution.DEADLINE:
            continue
        declared = set(DEFAULT_TABLE.http.values()) | set(DEFAULT_TABLE.faults.values()) | set(FAULT_MEANINGS.values())
        assert resolution in declared | {
            Resolution.OK,
            Resolution.PERMANENT,
            *raised_by,
        }
        assert resolution not in raised_by or raised_by[resolution] in expected, resolution


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = datetime(2024, 3, 1, 1, 0, 0, tzinfo=VN_TZ)
    assert retry_after_seconds("Thu, 29 Feb 2024 18:00:30 GMT", lambda: now) == 30.0
    assert retry_after_seconds("soon") is None
