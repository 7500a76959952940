"""The one-stop-shop SOAP service (``contracts/motcua.wsdl``) as a Starlette app: WSDL, XSD, the four operations.

Requests are parsed with a hardened lxml parser, authenticated with WS-Security UsernameToken (text or digest),
validated against the XSD (libxml2, fast enough for benchmarks) and answered from :class:`OneStopShop`. Faults
follow ``contracts/README.md``. Injected faults (``simulators.faults``) apply before and after the real work.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from simulators import control
from simulators.faults import Decision, FaultInjector, malform_xml, truncate
from simulators.lifecycle import Lifecycle
from simulators.motcua import OneStopShop, UnknownDossier
from simulators.records import NS, parse_datetime, text, tiendo_from_element, to_element

CONTRACTS = Path(__file__).resolve().parent / "contracts"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "#PasswordDigest"
SERVICE_VERSION = "motcua-sim 1.0"
MAX_CLOCK_SKEW = timedelta(minutes=5)
_Q = "{" + NS + "}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str = "hub"
    password: str = "hub-secret"  # noqa: S105 - the simulators' documented default, not a secret


class SoapFault(Exception):
    """Raised inside a handler to answer with a SOAP Fault."""

    CODES: ClassVar[dict[str, str]] = {
        "AUTH": "soap:Client.XacThuc",
        "NOT_FOUND": "soap:Client.KhongTimThay",
        "VALIDATION": "soap:Client.DuLieuKhongHopLe",
        "INTERNAL": "soap:Server.LoiHeThong",
    }

    def __init__(self, kind: str, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details or []


class SoapService:
    """The operations, independent of HTTP so tests and benchmarks can reason about them."""

    def __init__(
        self, store: OneStopShop, lifecycle: Lifecycle, faults: FaultInjector, credentials: Credentials
    ) -> None:
        self.store = store
        self.lifecycle = lifecycle
        self.faults = faults
        self.credentials = credentials
        self.schema = etree.XMLSchema(etree.parse(str(CONTRACTS / "motcua.xsd")))
        # every unit a system serves, before and after a merger (the successor's system answers for retired codes)
        self.units = {u.code for u in lifecycle.topology.units if u.system is not None}

    # -- the HTTP boundary --------------------------------------------------------------------------------------

    async def wsdl(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        if "xsd" in request.query_params:
            return Response((CONTRACTS / "motcua.xsd").read_bytes(), media_type="text/xml")
        if "wsdl" not in request.query_params:
            return Response("GET /motcua?wsdl or ?xsd; POST SOAP 1.1 envelopes", media_type="text/plain")
        wsdl = (CONTRACTS / "motcua.wsdl").read_text(encoding="utf-8")
        wsdl = wsdl.replace('schemaLocation="motcua.xsd"', f'schemaLocation="{base}/motcua?xsd"')
        wsdl = wsdl.replace('location="http://127.0.0.1:8701/motcua"', f'location="{base}/motcua"')
        return Response(wsdl.encode("utf-8"), media_type="text/xml")

    async def post(self, request: Request) -> Response:
        body = await request.body()
        operation = _operation_hint(request.headers.get("soapaction", ""))
        decision = self.faults.decide("soap", operation)
        early = await _before(decision)
        if early is not None:
            return early
        if decision.soap_fault:
            return _fault_response(SoapFault("INTERNAL", "Lỗi hệ thống một cửa (injected internal error)"))
        try:
            payload = self.handle(body, decision)
        except SoapFault as fault:
            return _fault_response(fault)
        except Exception as exc:  # any bug of ours is still a well-formed SOAP Fault for the client
            return _fault_response(SoapFault("INTERNAL", f"Lỗi hệ thống (internal error): {type(exc).__name__}"))
        if decision.truncate:
            payload = truncate(payload)
        elif decision.malformed:
            payload = malform_xml(payload)
        return Response(payload, media_type="text/xml; charset=utf-8")

    # -- the SOAP layer -----------------------------------------------------------------------------------------

    def handle(self, body: bytes, decision: Decision | None = None) -> bytes:
        """One SOAP request envelope to one response envelope (bytes); raises SoapFault."""
        try:
            envelope = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise SoapFault("VALIDATION", "Yêu cầu không phải XML hợp lệ (malformed XML)", [str(exc)]) from exc
        if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
            raise SoapFault("VALIDATION", "Thiếu SOAP 1.1 Envelope (not a SOAP 1.1 envelope)")
        self._authenticate(envelope.find(f"{{{SOAP_ENV}}}Header"))
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        request = soap_body[0] if soap_body is not None and len(soap_body) else None
        if request is None or not isinstance(request.tag, str) or not request.tag.startswith(_Q):
            raise SoapFault("VALIDATION", "Thân SOAP rỗng hoặc sai namespace (empty body or wrong namespace)")
        name = etree.QName(request).localname
        handler = getattr(self, f"_op_{name}", None)
        if handler is None:
            raise SoapFault("VALIDATION", f"Không có thao tác {name} (unknown operation)")
        document = etree.ElementTree(etree.fromstring(etree.tostring(request), _PARSER))
        if not self.schema.validate(document):
            problems = [f"dòng {e.line}: {e.message}" for e in self.schema.error_log]
            raise SoapFault("VALIDATION", f"Yêu cầu {name} không đúng lược đồ XSD (request violates the XSD)", problems)
        response = handler(request, decision or Decision())
        return _envelope(response)

    def _authenticate(self, header: etree._Element | None) -> None:
        check_username_token(header, self.credentials)

    def _unit(self, request: etree._Element) -> str:
        unit = request.findtext(f"{_Q}MaDonVi") or ""
        if unit not in self.units:
            raise SoapFault("NOT_FOUND", f"Không có đơn vị {unit} (unknown unit)")
        return unit

    def _op_KiemTraKetNoi(self, request: etree._Element, decision: Decision) -> etree._Element:
        if request.findtext(f"{_Q}MaDonVi") is not None:
            self._unit(request)
        out = etree.Element(f"{_Q}KiemTraKetNoiResponse")
        etree.SubElement(out, f"{_Q}TrangThai").text = "OK"
        etree.SubElement(out, f"{_Q}PhienBanDichVu").text = SERVICE_VERSION
        etree.SubElement(out, f"{_Q}ThoiDiem").text = text(self.lifecycle.clock.now())
        return out

    def _op_LayChiTietHoSo(self, request: etree._Element, decision: Decision) -> etree._Element:
        unit = self._unit(request)
        code = request.findtext(f"{_Q}MaHoSo") or ""
        out = etree.Element(f"{_Q}LayChiTietHoSoResponse")
        with self.store.lock:
            try:
                record = self.store.get(unit, code)
            except UnknownDossier as exc:
                raise SoapFault("NOT_FOUND", f"Đơn vị {unit} không có hồ sơ {code} (no such dossier)") from exc
            out.append(to_element(record, "HoSo"))
        return out

    def _op_LayDanhSachHoSoThayDoi(self, request: etree._Element, decision: Decision) -> etree._Element:
        unit = self._unit(request)
        since = parse_datetime(request.findtext(f"{_Q}TuNgay") or "")
        until_raw = request.findtext(f"{_Q}DenNgay")
        until = parse_datetime(until_raw) if until_raw else None
        limit = int(request.findtext(f"{_Q}SoLuongToiDa") or 100)
        after = None
        token = request.findtext(f"{_Q}TokenTiepTheo")
        if token:
            after, token_unit = _read_token(token)
            if token_unit != unit:
                raise SoapFault("VALIDATION", "TokenTiepTheo thuộc đơn vị khác (token belongs to another unit)")
            since = min(since, after[0])
        records, last = self.store.changes(unit, since, until, after, limit)
        entries = [(r.MaHoSo, r.PhienBan, r.NgayCapNhat) for r in records]
        if decision.feed_duplicate:
            rng = random.Random(self.faults.rng.random())
            entries = [
                e for entry in entries for e in ([entry, entry] if rng.random() < decision.feed_duplicate else [entry])
            ]
        if decision.feed_shuffle and len(entries) > 1:
            entries.reverse()
        out = etree.Element(f"{_Q}LayDanhSachHoSoThayDoiResponse")
        holder = etree.SubElement(out, f"{_Q}DanhSachThayDoi")
        for code, version, updated in entries:
            item = etree.SubElement(holder, f"{_Q}ThayDoi")
            etree.SubElement(item, f"{_Q}MaHoSo").text = code
            etree.SubElement(item, f"{_Q}PhienBan").text = str(version)
            etree.SubElement(item, f"{_Q}NgayCapNhat").text = text(updated)
        if last is not None:
            etree.SubElement(out, f"{_Q}TokenTiepTheo").text = _make_token(last, unit)
        return out

    def _op_CapNhatTrangThaiHoSo(self, request: etree._Element, decision: Decision) -> etree._Element:
        unit = self._unit(request)
        code = request.findtext(f"{_Q}MaHoSo") or ""
        entries = [tiendo_from_element(e) for e in request.iterfind(f"{_Q}DanhSachTienDo/{_Q}TienDo")]
        finished = request.findtext(f"{_Q}NgayKetThucXuLy")
        returned = request.findtext(f"{_Q}NgayTra")
        try:
            outcome = self.store.apply_update(
                unit,
                code,
                int(request.findtext(f"{_Q}TrangThai") or 0),
                int(request.findtext(f"{_Q}PhienBanNguon") or 0),
                request.findtext(f"{_Q}MaDonViGui"),
                entries,
                self.lifecycle.clock.now(),
                finished_at=parse_datetime(finished) if finished else None,
                returned_at=parse_datetime(returned) if returned else None,
            )
        except UnknownDossier as exc:
            raise SoapFault("NOT_FOUND", f"Đơn vị {unit} không có hồ sơ {code} (no such dossier)") from exc
        out = etree.Element(f"{_Q}CapNhatTrangThaiHoSoResponse")
        etree.SubElement(out, f"{_Q}KetQua").text = "DaCapNhat" if outcome.applied else "BoQua"
        etree.SubElement(out, f"{_Q}PhienBan").text = str(outcome.version)
        etree.SubElement(out, f"{_Q}SoTienDoDaThem").text = str(outcome.added)
        if outcome.reason:
            etree.SubElement(out, f"{_Q}LyDo").text = outcome.reason
        return out


def check_username_token(header: etree._Element | None, credentials: Credentials) -> None:
    """Refuse a request without a valid WS-Security UsernameToken (text or digest) for ``credentials``."""
    token = None if header is None else header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        raise SoapFault("AUTH", "Thiếu WS-Security UsernameToken (missing UsernameToken)")
    username = token.findtext(f"{{{WSSE}}}Username") or ""
    password_el = token.find(f"{{{WSSE}}}Password")
    if password_el is None:
        raise SoapFault("AUTH", "Thiếu mật khẩu (missing password)")
    supplied = password_el.text or ""
    if password_el.get("Type", "").endswith(DIGEST):
        nonce = token.findtext(f"{{{WSSE}}}Nonce") or ""
        created = token.findtext(f"{{{WSU}}}Created") or ""
        try:
            stamp = parse_datetime(created)
            raw_nonce = base64.b64decode(nonce)
        except ValueError as exc:
            raise SoapFault("AUTH", "Created hoặc Nonce sai định dạng (bad Created or Nonce)") from exc
        if stamp.tzinfo is None or abs(datetime.now(UTC) - stamp) > MAX_CLOCK_SKEW:
            raise SoapFault("AUTH", "UsernameToken đã quá hạn (stale Created timestamp)")
        # the OASIS UsernameToken profile defines the digest as SHA-1
        digest = hashlib.sha1(raw_nonce + created.encode() + credentials.password.encode()).digest()  # noqa: S324
        expected = base64.b64encode(digest).decode()
    else:
        expected = credentials.password
    user_ok = hmac.compare_digest(username.encode(), credentials.username.encode())
    if not (user_ok and hmac.compare_digest(supplied.encode(), expected.encode())):
        raise SoapFault("AUTH", "Sai tên đăng nhập hoặc mật khẩu (wrong username or password)")


def create_app(service: SoapService, extra: Sequence[BaseRoute] = ()) -> Starlette:
    """The default contract's service, the control endpoints, and ``extra`` routes (other vendors) on one app."""
    routes = [
        Route("/motcua", service.wsdl, methods=["GET"]),
        Route("/motcua", service.post, methods=["POST"]),
        *control.routes(service.faults, service.lifecycle),
        *extra,
    ]
    return Starlette(routes=routes)


async def _before(decision: Decision) -> Response | None:
    """Apply the faults that come before any work: latency, hangs, rate limiting, HTTP errors."""
    if decision.delay:
        await asyncio.sleep(decision.delay)
    if decision.hang:
        await asyncio.sleep(decision.hang)
        return Response(status_code=504)
    if decision.rate_limited is not None:
        return JSONResponse(
            {"message": "Quá nhiều yêu cầu (too many requests)"},
            status_code=429,
            headers={"Retry-After": str(decision.rate_limited)},
        )
    if decision.error_status is not None:
        return Response(
            b"<html><body>Service Unavailable</body></html>", status_code=decision.error_status, media_type="text/html"
        )
    return None


def _operation_hint(soap_action: str) -> str | None:
    action = soap_action.strip('"')
    return action.rsplit("/", 1)[-1] if action else None


def _envelope(payload: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": NS})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def _fault_response(fault: SoapFault) -> Response:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": NS})
    node = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(node, "faultcode").text = SoapFault.CODES[fault.kind]
    etree.SubElement(node, "faultstring").text = fault.message
    detail = etree.SubElement(etree.SubElement(node, "detail"), f"{_Q}LoiNghiepVu")
    etree.SubElement(detail, f"{_Q}MaLoi").text = fault.kind
    etree.SubElement(detail, f"{_Q}MoTa").text = fault.message
    for line in fault.details[:20]:
        etree.SubElement(detail, f"{_Q}ChiTiet").text = line
    body = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    return Response(body, status_code=500, media_type="text/xml; charset=utf-8")


def _make_token(key: tuple[datetime, str], unit: str) -> str:
    raw = json.dumps({"t": key[0].isoformat(), "c": key[1], "u": unit}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _read_token(token: str) -> tuple[tuple[datetime, str], str]:
    try:
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (datetime.fromisoformat(data["t"]), str(data["c"])), str(data["u"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SoapFault("VALIDATION", "TokenTiepTheo không hợp lệ (invalid continuation token)") from exc
