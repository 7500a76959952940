"""A one-stop-shop vendor that speaks JSON over HTTP ("Bạch Đằng eGov" REST API v2), fictional.

Several provinces' one-stop software exposes REST/JSON rather than SOAP. This simulator serves the shared data world
(:class:`OneStopShop`) for the units whose system uses it, as that vendor would: camelCase English names in nested
objects, times in UTC (``2024-03-01T01:15:00Z``, null when unknown), its own words for codes, a dossier fetched by
its id alone, and a change feed asked by time window (``from``/``to``, 31 days at most) with no paging token.
Basic authentication. It renders records with its own code, never with the hub's mappings. A status update of the
vendor's copy (liên thông) is ``PUT /api/v2/dossiers/{id}/status`` with a JSON body.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.faults import FaultInjector, truncate
from simulators.motcua import OneStopShop
from simulators.records import HoSo, TienDo
from simulators.soap import Credentials, _before

PATH = "/bachdang"
MAX_WINDOW = timedelta(days=31)
STATE = {
    1: "RECEIVED_ONLINE",
    2: "ACCEPTED",
    3: "REJECTED",
    4: "IN_PROGRESS",
    5: "NEEDS_SUPPLEMENT",
    6: "AWAITING_PAYMENT",
    7: "WITHDRAWN",
    8: "SUSPENDED",
    9: "READY",
    10: "DELIVERED",
}
CHANNEL = {1: "COUNTER", 2: "PORTAL", 3: "POSTAL_SERVICE"}
APPLICANT = {1: "PERSON", 2: "COMPANY", 3: "GOVERNMENT", 4: "ORGANIZATION"}
DELIVERY = {0: "AT_DESK", 1: "BY_MAIL"}
LEVEL = {2: "INFO_ONLY", 3: "PARTIAL", 4: "FULL"}
STATE_OF = {word: number for number, word in STATE.items()}


class BachDangApi:
    """The vendor's three endpoints over the shared data world, for ``units`` only."""

    def __init__(
        self,
        store: OneStopShop,
        units: Iterable[str],
        faults: FaultInjector,
        credentials: Credentials,
        clock: Any = None,
    ) -> None:
        self.store = store
        self.units = frozenset(units)
        self.faults = faults
        self.credentials = credentials
        self.clock = clock  # the simulated clock an update's change time is read from (its copy's NgayCapNhat)

    async def changes(self, request: Request) -> Response:
        return await self._serve(request, "changes", lambda: self._changes(request))

    async def dossier(self, request: Request) -> Response:
        return await self._serve(request, "dossier", lambda: self._dossier(request.path_params["dossier_id"]))

    async def update_status(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        dossier_id = request.path_params["dossier_id"]
        return await self._serve(request, "update", lambda: self._update(dossier_id, body))

    async def health(self, request: Request) -> Response:
        return await self._serve(request, "health", lambda: (200, {"status": "UP"}))

    async def _serve(self, request: Request, operation: str, work: Any) -> Response:
        decision = self.faults.decide("bachdang", operation)
        early = await _before(decision)
        if early is not None:
            return early
        if not self._authorised(request.headers.get("authorization", "")):
            return JSONResponse({"error": "UNAUTHORIZED", "message": "bad credentials"}, status_code=401)
        if decision.soap_fault:
            return JSONResponse({"error": "INTERNAL", "message": "injected internal error"}, status_code=500)
        status, body = work()
        if decision.feed_unreadable and operation == "changes" and body.get("changes"):
            body["changes"][0]["revision"] = None  # a row the vendor's export wrote without its revision
        if decision.truncate:  # the connection cut mid-answer by a proxy that still said 200
            whole = JSONResponse(body, status_code=status).body
            return Response(truncate(bytes(whole)), status_code=status, media_type="application/json")
        return JSONResponse(body, status_code=status)

    def _authorised(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        expected = f"{self.credentials.username}:{self.credentials.password}"
        return hmac.compare_digest(f"{user}:{password}".encode(), expected.encode())

    def _changes(self, request: Request) -> tuple[int, Any]:
        agency = request.path_params["agency"]
        if agency not in self.units:
            return 404, {"error": "AGENCY_NOT_FOUND", "message": f"agency {agency} is not served here"}
        try:
            start = _parse(request.query_params["from"])
            end = _parse(request.query_params["to"]) if "to" in request.query_params else None
        except (KeyError, ValueError):
            return 400, {"error": "BAD_WINDOW", "message": "from (and to) must be UTC times like 2024-03-01T01:15:00Z"}
        if end is None or end - start > MAX_WINDOW or end < start:
            return 400, {"error": "BAD_WINDOW", "message": "give from and to, at most 31 days apart"}
        with self.store.lock:
            rows = sorted(
                (r.NgayCapNhat.replace(microsecond=0), r.MaHoSo, r.PhienBan)
                for r in self.store.records(agency)
                if r.NgayCapNhat is not None
            )
        items = [
            {"dossierId": code, "revision": version, "changedAt": _utc(at)}
            for at, code, version in rows
            if at >= start and (end is None or at < end)
        ]
        return 200, {"changes": items, "count": len(items)}

    def _dossier(self, dossier_id: str) -> tuple[int, Any]:
        with self.store.lock:
            found = [self.store.get(u, dossier_id) for u in self.units if self.store.has(u, dossier_id)]
            if not found:
                return 404, {"error": "DOSSIER_NOT_FOUND", "message": f"no dossier {dossier_id}"}
            mine = [r for r in found if r.MaDonViXuLy in (None, r.MaDonViTiepNhan)]
            return 200, {"data": _render((mine or found)[0])}

    def _update(self, dossier_id: str, body: Any) -> tuple[int, Any]:
        """``PUT /dossiers/{id}/status``: ``{"state", "step": {"action", "officer", "at"}}``; the step joins the
        vendor's copy's history and the state is set unless it would regress."""
        if not isinstance(body, dict) or body.get("state") not in STATE_OF:
            return 422, {"error": "BAD_STATE", "message": f"dossier {dossier_id}: state must be one of the API's"}
        given = body.get("step")
        step: dict[str, Any] = given if isinstance(given, dict) else {}
        try:
            at = _parse(step["at"]) if step.get("at") else None
        except ValueError:
            return 422, {
                "error": "BAD_TIME",
                "message": f"dossier {dossier_id}: step.at must be like 2024-03-01T01:15:00Z",
            }
        status = STATE_OF[body["state"]]
        with self.store.lock:
            found = [u for u in sorted(self.units) if self.store.has(u, dossier_id)]
            if not found:
                return 404, {"error": "DOSSIER_NOT_FOUND", "message": f"no dossier {dossier_id}"}
            unit = found[0]
            entries = []
            if step.get("action") and step.get("officer") and at is not None:
                entries.append(TienDo(str(step["officer"]), None, at, None, str(step["action"]), status, MaDonVi=unit))
            now = self.clock.now() if self.clock is not None else datetime.now(UTC)
            outcome = self.store.apply_update(unit, dossier_id, status, 0, None, entries, now)
        result = {"result": "UPDATED" if outcome.applied else "UNCHANGED", "revision": outcome.version}
        return 200, result | ({"reason": outcome.reason} if outcome.reason else {})


def _render(r: HoSo) -> dict[str, Any]:
    a = r.ChuHoSo
    return {
        "dossierId": r.MaHoSo,
        "receiptNo": r.SoBienNhan,
        "agency": {"receiving": r.MaDonViTiepNhan, "handling": r.MaDonViXuLy, "handlingName": r.DonViXuLy},
        "procedure": {
            "code": r.MaThuTuc,
            "name": r.TenThuTuc,
            "sector": {"code": r.MaLinhVuc, "name": r.TenLinhVuc} if r.MaLinhVuc else None,
            "level": LEVEL.get(r.MucDo) if r.MucDo else None,
        },
        "submission": {
            "channel": CHANNEL[r.KenhThucHien],
            "submittedAt": _utc(r.NgayNop),
            "receivedAt": _utc(r.NgayTiepNhan),
            "dueAt": _utc(r.NgayHenTra),
        },
        "applicant": {
            "fullName": a.HoTen,
            "type": APPLICANT[a.LoaiDoiTuong],
            "idNo": a.SoGiayTo,
            "accountId": a.MaDoiTuong,
            "contact": {"phone": a.SoDienThoai, "email": a.Email, "address": a.DiaChi},
        },
        "subject": r.TrichYeu,
        "state": STATE[r.TrangThai],
        "completion": {
            "finishedAt": _utc(r.NgayKetThucXuLy),
            "deliveredAt": _utc(r.NgayTra),
            "rejectedAt": _utc(r.NgayTuChoi),
            "delivery": DELIVERY.get(r.HinhThucTra) if r.HinhThucTra is not None else None,
        },
        "note": r.GhiChu,
        "paidOnline": r.ThanhToanTrucTuyen,
        "attachments": [
            {
                "id": f.Id,
                "fileName": f.Ten,
                "componentCode": f.MaThanhPhan,
                "url": f.DuongDan,
                "deleted": f.DaXoa,
                "digitized": f.DuocSoHoa,
                "reused": f.DuocTaiSuDung,
                "fromNationalRepository": f.LayTuKhoDMQG,
            }
            for f in r.DanhSachTepDinhKem
        ],
        "fees": [
            {"name": f.Ten, "code": f.Ma, "method": f.HinhThucThu, "amount": _number(Decimal(f.SoTien)), "type": f.Loai}
            for f in r.DanhSachLePhi
        ],
        "otherDocuments": [{"name": g.Ten, "copies": g.SoLuong, "type": g.Loai} for g in r.DanhSachGiayToKhac],
        "supplementRounds": [
            {
                "id": s.Id,
                "requestedBy": s.NguoiYeuCau,
                "reason": s.NoiDung,
                "requestedAt": _utc(s.NgayYeuCau),
                "receivedBy": s.NguoiTiepNhan,
                "receiptNote": s.ThongTinTiepNhan,
                "receivedAt": _utc(s.NgayTiepNhan),
                "state": s.TrangThai,
                "documents": list(s.GiayTo),
                "previousDueAt": _utc(s.NgayHenTraTruoc),
                "newDueAt": _utc(s.NgayHenTraMoi),
            }
            for s in r.DanhSachBoSung
        ],
        "results": [
            {"name": k.Ten, "componentCode": k.MaThanhPhan, "id": k.Id, "url": k.DuongDan, "documentNo": k.MaGiayTo}
            for k in r.DanhSachKetQua
        ],
        "history": [
            {
                "officer": {"name": e.NguoiXuLy, "title": e.ChucDanh, "department": e.PhongBan},
                "at": _utc(e.ThoiDiem),
                "action": e.NoiDung,
                "state": STATE[e.TrangThai],
                "startedAt": _utc(e.NgayBatDau),
                "dueAt": _utc(e.NgayKetThucTheoQuyDinh),
                "agency": e.MaDonVi,
            }
            for e in r.DanhSachTienDo
        ],
        "revision": r.PhienBan,
        "lastModified": _utc(r.NgayCapNhat),
    }


def _number(value: Decimal) -> int | float:
    """An amount as a JSON number: đồng are whole, so most amounts are integers."""
    return int(value) if value == value.to_integral_value() else float(value)


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def _parse(raw: str) -> datetime:
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def routes(api: BachDangApi) -> list[Route]:
    return [
        Route(PATH + "/api/v2/agencies/{agency}/changes", api.changes, methods=["GET"]),
        Route(PATH + "/api/v2/dossiers/{dossier_id}", api.dossier, methods=["GET"]),
        Route(PATH + "/api/v2/dossiers/{dossier_id}/status", api.update_status, methods=["PUT"]),
        Route(PATH + "/api/v2/health", api.health, methods=["GET"]),
    ]


def create_app(api: BachDangApi) -> Starlette:
    return Starlette(routes=routes(api))
