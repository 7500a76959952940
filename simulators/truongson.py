"""A REST one-stop-shop platform behind an OAuth2 token server ("Trường Sơn Cloud" API v3), fictional.

It serves the shared data world (:class:`OneStopShop`) for the units whose system uses it, the way such platforms
differ from everything else the hub meets: a Keycloak-style token endpoint (client credentials, short-lived bearer
tokens: 60 s by default, 401 ``invalid_client`` for a wrong secret, 401 ``invalid_token`` once a token expired), units
addressed by their DVCQG agency identifier, times as epoch milliseconds, English snake_case names, numbers for every
code (status 0–9, the national status minus one; task states 0 pending / 1 doing / 2 done), a change feed paged by an
opaque cursor inside a ``{"status": ..., "payload": ...}`` envelope, the dossier fetched by its object id with the
record at the root of the answer, ``429`` with ``Retry-After`` (through the fault injector), and status write-back by
``PUT /dossiers/{id}/status``, stored so that a write-back can be checked. It renders records with its own code,
never with the hub's mappings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.faults import FaultInjector, truncate
from simulators.motcua import OneStopShop
from simulators.records import HoSo
from simulators.soap import Credentials, _before

PATH = "/truongson"
FAMILY = "truongson"
TOKEN_TTL = 60.0  # seconds: the platform's tokens are short-lived
PAGE_MAX = 200
CHANNEL = {1: 11, 2: 12, 3: 13}  # counter, online portal, public postal service
APPLICANT_KIND = {1: 0, 2: 1, 3: 2, 4: 3}  # individual, enterprise, state body, other organisation
RETURN_CHANNEL = {0: 1, 1: 2}  # at the desk, by post
SERVICE_LEVEL = {2: 1, 3: 2, 4: 3}  # information, partly online, fully online
PENDING, DOING, DONE = 0, 1, 2
TERMINAL = frozenset({3, 7, 8, 10})


def object_id(code: str) -> str:
    """The platform's own id of a dossier: an opaque 24-hex-digit object id, stable per dossier code."""
    return hashlib.sha1(f"{FAMILY}:{code}".encode(), usedforsecurity=False).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class StatusWrite:
    """One status written back by ``PUT /dossiers/{id}/status``, as the platform stored it."""

    object_id: str
    dossier_no: str
    status_code: int
    note: str | None
    changed_at: int | None
    received_at: float


class TruongSonApi:
    """The token server and the platform's endpoints over the shared data world, for ``units`` only."""

    def __init__(
        self,
        store: OneStopShop,
        units: Iterable[str],
        faults: FaultInjector,
        credentials: Credentials,
        agency_ids: Mapping[str, str],
        *,
        token_ttl: float = TOKEN_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.units = frozenset(units)
        self.faults = faults
        self.credentials = credentials
        self.agency_of = dict(agency_ids)  # GSO code → agency id, every unit of the province
        self.unit_of = {agency: code for code, agency in self.agency_of.items()}
        self.token_ttl = token_ttl
        self._monotonic = monotonic
        self._tokens: dict[str, float] = {}  # token → when it expires (monotonic)
        self._ids: dict[str, tuple[str, str]] = {}  # object id → (unit, dossier code)
        self._lock = threading.Lock()
        self.tokens_issued = 0
        self.status_writes: list[StatusWrite] = []

    # -- the token server ---------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        decision = self.faults.decide(FAMILY, "token")
        early = await _before(decision)
        if early is not None:
            return early
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        client, secret = _basic_pair(request.headers.get("authorization", "")) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
        expected = f"{self.credentials.username}:{self.credentials.password}"
        if not hmac.compare_digest(f"{client}:{secret}".encode(), expected.encode()):
            return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = self._monotonic() + self.token_ttl
            self.tokens_issued += 1
        body = {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl)}
        if form.get("scope"):
            body["scope"] = form["scope"]
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    def expire_tokens(self) -> None:
        """Every token issued so far stops working now (a token that expires in the middle of a run)."""
        with self._lock:
            self._tokens.clear()

    # -- the API ------------------------------------------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        return await self._serve(request, "events", lambda: self._events(request))

    async def dossier(self, request: Request) -> Response:
        return await self._serve(request, "dossier", lambda: self._dossier(request.path_params["object_id"]))

    async def status(self, request: Request) -> Response:
        body = await request.body()
        return await self._serve(request, "status", lambda: self._write_status(request.path_params["object_id"], body))

    async def health(self, request: Request) -> Response:
        return await self._serve(request, "health", lambda: (200, _ok({"healthy": True})))

    async def _serve(self, request: Request, operation: str, work: Callable[[], tuple[int, Any]]) -> Response:
        decision = self.faults.decide(FAMILY, operation)
        early = await _before(decision)
        if early is not None:
            return early
        if not self._authorised(request.headers.get("authorization", "")):
            return JSONResponse(
                _error("UNAUTHENTICATED", "access token missing, invalid or expired"),
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if decision.soap_fault:
            return JSONResponse(_error("INTERNAL", "injected internal error"), status_code=500)
        status, body = work()
        if decision.feed_unreadable and operation == "events" and body["payload"]["events"]:
            body["payload"]["events"][0]["revision"] = None
        if decision.truncate:  # cut mid-answer by a proxy that still said 200
            whole = JSONResponse(body, status_code=status).body
            return Response(truncate(bytes(whole)), status_code=status, media_type="application/json")
        return JSONResponse(body, status_code=status)

    def _authorised(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        with self._lock:
            expires = self._tokens.get(token)
            if expires is not None and expires <= self._monotonic():
                del self._tokens[token]
                return False
        return expires is not None

    def _events(self, request: Request) -> tuple[int, Any]:
        agency = request.path_params["agency_id"]
        unit = self.unit_of.get(agency)
        if unit is None or unit not in self.units:
            # A platform answers an agency it does not serve with an empty feed, not an error: the probe must notice.
            return 200, _ok({"events": [], "cursor": {"next": None, "has_more": False}})
        query = request.query_params
        try:
            since = int(query["modified_since"])
            size = min(int(query.get("page_size", "50")), PAGE_MAX)
            after = _decode_cursor(query["cursor"]) if query.get("cursor") else None
        except (KeyError, ValueError):
            return 400, _error("BAD_REQUEST", "modified_since (epoch ms) is required; page_size and cursor as given")
        with self.store.lock:
            rows = sorted(
                (_epoch_ms(r.NgayCapNhat), r.MaHoSo, r.PhienBan)
                for r in self.store.records(unit)
                if r.NgayCapNhat is not None and _epoch_ms(r.NgayCapNhat) >= since
            )
        if after is not None:
            rows = [row for row in rows if (row[0], row[1]) > after]
        page, more = rows[:size], len(rows) > size
        events = []
        for at, code, revision in page:
            oid = object_id(code)
            with self._lock:
                self._ids[oid] = (unit, code)
            events.append({"object_id": oid, "dossier_no": code, "revision": revision, "modified_at": at})
        cursor = _encode_cursor(page[-1][0], page[-1][1]) if more and page else None
        return 200, _ok({"events": events, "cursor": {"next": cursor, "has_more": more}})

    def _find(self, oid: str) -> HoSo | None:
        with self._lock:
            known = self._ids.get(oid)
        if known is None:
            with self.store.lock:
                for unit in self.units:
                    for record in self.store.records(unit):
                        with self._lock:
                            self._ids[object_id(record.MaHoSo)] = (unit, record.MaHoSo)
            with self._lock:
                known = self._ids.get(oid)
        if known is None:
            return None
        with self.store.lock:
            found = [self.store.get(u, known[1]) for u in self.units if self.store.has(u, known[1])]
            mine = [r for r in found if r.MaDonViXuLy in (None, r.MaDonViTiepNhan)]
            return (mine or found)[0].clone() if found else None

    def _dossier(self, oid: str) -> tuple[int, Any]:
        record = self._find(oid)
        if record is None:
            return 404, _error("NOT_FOUND", f"no dossier with object id {oid}")
        return 200, self._render(record)

    def _write_status(self, oid: str, raw: bytes) -> tuple[int, Any]:
        record = self._find(oid)
        if record is None:
            return 404, _error("NOT_FOUND", f"no dossier with object id {oid}")
        try:
            body = json.loads(raw)
            code = body["status_code"]
        except (ValueError, KeyError, TypeError):
            return 400, _error("BAD_REQUEST", "a JSON body with status_code (0-9) is required")
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 9:
            return 422, _error("INVALID_STATUS", f"status_code {code!r} is not one of 0-9")
        write = StatusWrite(oid, record.MaHoSo, code, body.get("note"), body.get("changed_at"), time.time())
        with self._lock:
            self.status_writes.append(write)
        return 200, _ok({"object_id": oid, "dossier_no": record.MaHoSo, "status_code": code, "accepted": True})

    def written(self, dossier_no: str) -> list[StatusWrite]:
        """The statuses written back to a dossier, oldest first."""
        with self._lock:
            return [w for w in self.status_writes if w.dossier_no == dossier_no]

    def _agency(self, unit: str | None) -> str | None:
        return None if unit is None else self.agency_of.get(unit, unit)

    def _render(self, r: HoSo) -> dict[str, Any]:
        a = r.ChuHoSo
        closed = r.TrangThai in TERMINAL
        steps = list(r.DanhSachTienDo)
        return {
            "object_id": object_id(r.MaHoSo),
            "dossier_no": r.MaHoSo,
            "receipt_no": r.SoBienNhan,
            "receiving_agency_id": self._agency(r.MaDonViTiepNhan),
            "handling_agency_id": self._agency(r.MaDonViXuLy),
            "handling_agency_name": r.DonViXuLy,
            "procedure": {
                "local_code": r.MaThuTuc,
                "title": r.TenThuTuc,
                "domain_code": r.MaLinhVuc,
                "domain_title": r.TenLinhVuc,
                "service_level": SERVICE_LEVEL.get(r.MucDo) if r.MucDo else None,
            },
            "channel_code": CHANNEL[r.KenhThucHien],
            "applicant": {
                "name": a.HoTen,
                "kind_code": APPLICANT_KIND[a.LoaiDoiTuong],
                "id_number": a.SoGiayTo,
                "portal_account": a.MaDoiTuong,
                "phone": a.SoDienThoai,
                "email": a.Email,
                "address": a.DiaChi,
            },
            "abstract": r.TrichYeu,
            "status_code": r.TrangThai - 1,
            "submitted_at": _ms(r.NgayNop),
            "accepted_at": _ms(r.NgayTiepNhan),
            "due_at": _ms(r.NgayHenTra),
            "completed_at": _ms(r.NgayKetThucXuLy),
            "returned_at": _ms(r.NgayTra),
            "rejected_at": _ms(r.NgayTuChoi),
            "return_channel_code": RETURN_CHANNEL.get(r.HinhThucTra) if r.HinhThucTra is not None else None,
            "remarks": r.GhiChu,
            "paid_online": r.ThanhToanTrucTuyen,
            "documents": [
                {
                    "doc_id": f.Id,
                    "title": f.Ten,
                    "component_code": f.MaThanhPhan,
                    "download_url": f.DuongDan,
                    "is_removed": f.DaXoa,
                    "digitized": f.DuocSoHoa,
                    "reused": f.DuocTaiSuDung,
                    "from_national_store": f.LayTuKhoDMQG,
                }
                for f in r.DanhSachTepDinhKem
            ],
            "charges": [
                {
                    "title": f.Ten,
                    "code": f.Ma,
                    "collection": f.HinhThucThu,
                    "amount": _number(Decimal(f.SoTien)),
                    "category": f.Loai,
                }
                for f in r.DanhSachLePhi
            ],
            "extra_papers": [{"title": g.Ten, "copies": g.SoLuong, "category": g.Loai} for g in r.DanhSachGiayToKhac],
            "supplement_requests": [
                {
                    "request_id": s.Id,
                    "requested_by": s.NguoiYeuCau,
                    "reason": s.NoiDung,
                    "requested_at": _ms(s.NgayYeuCau),
                    "received_by": s.NguoiTiepNhan,
                    "receipt_note": s.ThongTinTiepNhan,
                    "received_at": _ms(s.NgayTiepNhan),
                    "state": s.TrangThai,
                    "papers": list(s.GiayTo),
                    "previous_due_at": _ms(s.NgayHenTraTruoc),
                    "new_due_at": _ms(s.NgayHenTraMoi),
                }
                for s in r.DanhSachBoSung
            ],
            "outputs": [
                {
                    "title": k.Ten,
                    "component_code": k.MaThanhPhan,
                    "output_id": k.Id,
                    "download_url": k.DuongDan,
                    "document_no": k.MaGiayTo,
                }
                for k in r.DanhSachKetQua
            ],
            # Tasks carry the platform's task state only; the national status of the dossier at each task's time
            # is in the status history.
            "tasks": [
                {
                    "assignee": {"full_name": e.NguoiXuLy, "position": e.ChucDanh, "department": e.PhongBan},
                    "performed_at": _ms(e.ThoiDiem),
                    "action_note": e.NoiDung,
                    "task_state": DOING if i == len(steps) - 1 and not closed else DONE,
                    "started_at": _ms(e.NgayBatDau),
                    "deadline_at": _ms(e.NgayKetThucTheoQuyDinh),
                    "agency_id": self._agency(e.MaDonVi),
                }
                for i, e in enumerate(steps)
            ],
            "status_history": [{"status_code": e.TrangThai - 1, "changed_at": _ms(e.ThoiDiem)} for e in steps],
            "revision": r.PhienBan,
            "modified_at": _ms(r.NgayCapNhat),
        }


def _ok(payload: Any) -> dict[str, Any]:
    return {"status": "success", "payload": payload}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"status": "error", "error": {"code": code, "message": message}}


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _basic_pair(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return client, secret


def _encode_cursor(at: int, code: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, code]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, str]:
    at, code = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    return int(at), str(code)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else _epoch_ms(value)


def _epoch_ms(value: datetime) -> int:
    return round(value.timestamp() * 1000)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def routes(api: TruongSonApi) -> list[Route]:
    return [
        Route(PATH + "/oauth2/token", api.token, methods=["POST"]),
        Route(PATH + "/api/v3/agencies/{agency_id}/dossier-events", api.events, methods=["GET"]),
        Route(PATH + "/api/v3/dossiers/{object_id}", api.dossier, methods=["GET"]),
        Route(PATH + "/api/v3/dossiers/{object_id}/status", api.status, methods=["PUT"]),
        Route(PATH + "/api/v3/health", api.health, methods=["GET"]),
    ]
