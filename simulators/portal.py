"""The national portal (DVCQG) simulator: session adapter, URL-per-operation API and the LGSP OAuth2 gateway.

It validates like the real portal (``docs/domain/dvcqg-contract.md``): an unknown MaTTHC, a date that is not
``yyyyMMddHHmmss``, a bad status, a missing required field or more than 10 progress entries is refused with a
Vietnamese message and a non-zero ``error_code`` (table in ``contracts/README.md``). It keeps what it accepted and
counts every accepted push per (MaHoSo, content version) so tests can prove nothing was pushed twice.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foundation.topology import Level, Topology
from mappings.codes import Status
from simulators import control
from simulators.catalogue import Catalogue
from simulators.faults import Decision, FaultInjector, malform_json, truncate
from simulators.soap import Credentials

OK = "0"
E_BATCH = "-1"  # some records of a batch were refused; see data[]
E_AUTH = "10"
E_SESSION = "11"
E_REQUIRED = "20"
E_PROCEDURE = "21"
E_DATE = "22"
E_STATUS = "23"
E_EXISTS = "24"
E_MISSING = "25"
E_TOO_MANY = "26"
E_INVALID = "27"
E_SERVICE = "30"
E_SYSTEM = "99"

MAX_PROGRESS = 10
MAX_BATCH = 100
DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy", "NgayTuChoi", "NgayNopHoSo")
SUPPLEMENT_DATE_FIELDS = ("NgayBoSung", "NgayTiepNhanBoSung", "NgayHenTraTruoc", "NgayHenTraMoi")
_CODE_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}$")
_SOURCE_IN_NOTE = re.compile(r"PhienBan=(\d+)")
_ACCEPTED_STATUSES = {2, 4, 5, 6, 8, 9, 10}  # statuses that need NgayTiepNhan


class Refusal(Exception):
    """Raised to refuse one record or one call with a portal error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def content_version(record: dict[str, Any]) -> str:
    """The first 16 hex digits of SHA-256 over the record as canonical JSON: what "the same push" means."""
    raw = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class PortalState:
    """What the portal accepted, its sessions and tokens; thread-safe."""

    def __init__(
        self,
        catalogue: Catalogue,
        topology: Topology,
        credentials: Credentials,
        session_ttl: float = 1800.0,
        token_ttl: float = 3600.0,
    ) -> None:
        self.catalogue = {p.national_code: p for p in catalogue.procedures}
        self.topology = topology
        self.credentials = credentials
        self.session_ttl = session_ttl
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.sessions: dict[str, tuple[str, float]] = {}
        self.tokens: dict[str, float] = {}
        # "per-item": a batch answer lists every record's result (the contract's default); "named": a batch with a
        # refusal is answered by the first refusal alone, naming its dossier, while the good records are stored
        # (portals seen in the wild do this)
        self.batch_answer: str = "per-item"
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.dossiers: dict[str, dict[str, Any]] = {}
            self.pushes: Counter[tuple[str, str]] = Counter()
            self.source_pushes: Counter[tuple[str, int]] = Counter()
            self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self.progress: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self.progress_repeats: Counter[str] = Counter()
            self.regressions: list[dict[str, Any]] = []
            self.refused: Counter[str] = Counter()
            self.received: Counter[str] = Counter()  # every record sent to create or update, accepted or not
            self.refuse: dict[str, tuple[str, str]] = {}  # MaHoSo → (error_code, message): refused every time

    # -- authentication -----------------------------------------------------------------------------------------

    def login(self, username: str, password: str, unit: str) -> str:
        if not self.check_password(username, password):
            raise Refusal(E_AUTH, "Sai tên đăng nhập hoặc mật khẩu (wrong username or password)")
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[token] = (unit, time.monotonic() + self.session_ttl)
        return token

    def check_password(self, username: str, password: str) -> bool:
        return hmac.compare_digest(username.encode(), self.credentials.username.encode()) and hmac.compare_digest(
            password.encode(), self.credentials.password.encode()
        )

    def check_session(self, token: str) -> None:
        with self.lock:
            entry = self.sessions.get(token)
            if entry is None or entry[1] < time.monotonic():
                self.sessions.pop(token, None)
                raise Refusal(E_SESSION, "Phiên làm việc không hợp lệ hoặc đã hết hạn (session invalid or expired)")

    def expire_all(self) -> None:
        with self.lock:
            self.sessions.clear()
            self.tokens.clear()

    def issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl
        return token

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self.tokens.get(token)
            if expires is None or expires < time.monotonic():
                self.tokens.pop(token, None)
                return False
            return True

    # -- dossiers -----------------------------------------------------------------------------------------------

    def validate(self, record: Any) -> None:
        """Refuse ``record`` the way the portal does; the first problem wins, as on the real portal."""
        if not isinstance(record, dict):
            raise Refusal(E_INVALID, "Dữ liệu hồ sơ phải là đối tượng JSON (record must be a JSON object)")
        for name in ("MaHoSo", "MaTTHC", "TenTTHC", "ChuHoSo", "KenhThucHien", "TrangThaiHoSo"):
            if record.get(name) in (None, ""):
                raise Refusal(
                    E_REQUIRED,
                    f"Hồ sơ {record.get('MaHoSo', '?')}: thiếu trường bắt buộc {name} (missing required field {name})",
                )
        code = str(record["MaHoSo"])
        if not _CODE_RE.match(code):
            raise Refusal(E_INVALID, f"Mã hồ sơ {code} sai định dạng (dossier code format)")
        if str(record["MaTTHC"]) not in self.catalogue:
            raise Refusal(
                E_PROCEDURE,
                f"Hồ sơ {code}: mã thủ tục {record['MaTTHC']} không tồn tại trên Cổng DVCQG "
                f"(unknown national procedure code)",
            )
        status = _int(record["TrangThaiHoSo"])
        if status is None or not 1 <= status <= 10:
            raise Refusal(
                E_STATUS, f"Hồ sơ {code}: trạng thái {record['TrangThaiHoSo']!r} không hợp lệ (bad status code)"
            )
        channel = _int(record["KenhThucHien"])
        if channel not in (1, 2, 3):
            raise Refusal(
                E_INVALID, f"Hồ sơ {code}: kênh thực hiện {record['KenhThucHien']!r} không hợp lệ (bad channel)"
            )
        if "LoaiDoiTuong" in record and _int(record["LoaiDoiTuong"]) not in (1, 2, 3, 4):
            raise Refusal(E_INVALID, f"Hồ sơ {code}: loại đối tượng không hợp lệ (bad applicant type)")
        for name in DATE_FIELDS:
            _check_date(code, name, record.get(name, ""))
        for i, round_ in enumerate(record.get("DanhSachHoSoBoSung") or []):
            for name in SUPPLEMENT_DATE_FIELDS:
                _check_date(code, f"DanhSachHoSoBoSung[{i}].{name}", (round_ or {}).get(name, ""))
        if status in _ACCEPTED_STATUSES and not record.get("NgayTiepNhan"):
            raise Refusal(
                E_REQUIRED,
                f"Hồ sơ {code}: trạng thái {status} cần NgayTiepNhan (NgayTiepNhan required for this status)",
            )
        if len(str(record.get("TrichYeuHoSo", ""))) >= 1000:
            raise Refusal(E_INVALID, f"Hồ sơ {code}: trích yếu phải dưới 1000 ký tự (summary too long)")

    def upsert(self, record: Any, *, updating: bool | None) -> str:
        """Validate and store one record; ``updating`` None means create-or-update. Returns the message."""
        try:
            if isinstance(record, dict):
                with self.lock:
                    self.received[str(record.get("MaHoSo"))] += 1
                    refusal = self.refuse.get(str(record.get("MaHoSo")))
                if refusal is not None:
                    raise Refusal(*refusal)
            self.validate(record)
            code = str(record["MaHoSo"])
            with self.lock:
                exists = code in self.dossiers
                if updating is False and exists:
                    raise Refusal(E_EXISTS, f"Hồ sơ {code} đã tồn tại (dossier already exists)")
                if updating is True and not exists:
                    raise Refusal(E_MISSING, f"Hồ sơ {code} chưa tồn tại trên Cổng DVCQG (dossier does not exist)")
                self._accept(code, record)
                return "Cập nhật thành công" if exists else "Thêm mới thành công"
        except Refusal as refusal:
            with self.lock:
                self.refused[refusal.code] += 1
            raise

    def _accept(self, code: str, record: dict[str, Any]) -> None:
        version = content_version(record)
        status = int(record["TrangThaiHoSo"])
        previous = self.history[code][-1]["status"] if self.history[code] else None
        if previous is not None and not Status(status).may_follow(Status(previous)):
            self.regressions.append({"MaHoSo": code, "from": previous, "to": status, "version": version})
        self.dossiers[code] = record
        self.pushes[(code, version)] += 1
        source = _source_version(record)
        if source is not None:
            self.source_pushes[(code, source)] += 1
        self.history[code].append(
            {
                "status": status,
                "version": version,
                "source_version": source,
                "at": datetime.now().astimezone().isoformat(),
            }
        )

    def add_progress(self, entry: Any) -> str:
        try:
            if not isinstance(entry, dict):
                raise Refusal(E_INVALID, "Tiến độ phải là đối tượng JSON (progress entry must be an object)")
            for name in ("MaHoSo", "NguoiXuLy", "ThoiDiemXuLy", "NoiDungXuLy", "TrangThai"):
                if entry.get(name) in (None, ""):
                    raise Refusal(
                        E_REQUIRED,
                        f"Tiến độ hồ sơ {entry.get('MaHoSo', '?')}: thiếu trường {name} "
                        f"(missing required field {name})",
                    )
            code = str(entry["MaHoSo"])
            if len(str(entry["NguoiXuLy"])) > 50:
                raise Refusal(E_INVALID, f"Tiến độ hồ sơ {code}: NguoiXuLy quá 50 ký tự (handler too long)")
            _check_date(code, "ThoiDiemXuLy", entry["ThoiDiemXuLy"])
            for name in ("NgayBatDau", "NgayKetThucTheoQuyDinh"):
                _check_date(code, name, entry.get(name, ""))
            status = _int(entry["TrangThai"])
            if status is None or not 1 <= status <= 10:
                raise Refusal(E_STATUS, f"Tiến độ hồ sơ {code}: trạng thái không hợp lệ (bad status code)")
            with self.lock:
                if code not in self.dossiers:
                    raise Refusal(E_MISSING, f"Hồ sơ {code} chưa được đồng bộ lên Cổng DVCQG (dossier not synced)")
                if entry in self.progress[code]:
                    self.progress_repeats[code] += 1
                self.progress[code].append(entry)
            return "Cập nhật tiến độ thành công"
        except Refusal as refusal:
            with self.lock:
                self.refused[refusal.code] += 1
            raise

    # -- inspection ---------------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "dossiers": len(self.dossiers),
                "pushes": sum(self.pushes.values()),
                "duplicates": [{"MaHoSo": c, "version": v, "count": n} for (c, v), n in self.pushes.items() if n > 1],
                "source_duplicates": [
                    {"MaHoSo": c, "source_version": v, "count": n} for (c, v), n in self.source_pushes.items() if n > 1
                ],
                "progress": sum(len(v) for v in self.progress.values()),
                "progress_repeats": dict(self.progress_repeats),
                "regressions": list(self.regressions),
                "refused": dict(self.refused),
                "received": dict(self.received),
                "by_status": dict(Counter(str(d["TrangThaiHoSo"]) for d in self.dossiers.values())),
            }

    def dossier(self, code: str) -> dict[str, Any] | None:
        with self.lock:
            if code not in self.dossiers:
                return None
            return {
                "record": self.dossiers[code],
                "pushes": {v: n for (c, v), n in self.pushes.items() if c == code},
                "source_versions": {str(v): n for (c, v), n in self.source_pushes.items() if c == code},
                "history": list(self.history[code]),
                "progress": list(self.progress.get(code, [])),
                "progress_repeats": self.progress_repeats.get(code, 0),
            }

    def procedure(self, national_code: str) -> dict[str, Any]:
        p = self.catalogue[national_code]
        return {
            "MaTTHC": p.national_code,
            "TenTTHC": p.name,
            "MaLinhVuc": p.field_code,
            "TenLinhVuc": p.field_name,
            "MucDo": str(p.service_level),
            "CapThucHien": "HUYEN" if p.level == "district" else "XA",
            "ThoiHanGiaiQuyet": p.processing_days,
        }


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _check_date(code: str, name: str, value: Any) -> None:
    if value in ("", None):
        return
    ok = isinstance(value, str) and len(value) == 14 and value.isdigit()
    if ok:
        try:
            datetime.strptime(value, "%Y%m%d%H%M%S")  # noqa: DTZ007 - the portal's dates are local wall time
        except ValueError:
            ok = False
    if not ok:
        raise Refusal(
            E_DATE,
            f"Hồ sơ {code}: {name} = {value!r} không đúng định dạng yyyyMMddHHmmss (date must be yyyyMMddHHmmss)",
        )


def _source_version(record: dict[str, Any]) -> int | None:
    raw = record.get("PhienBanNguon")
    if raw not in (None, ""):
        return _int(raw)
    match = _SOURCE_IN_NOTE.search(str(record.get("GhiChu") or ""))
    return int(match.group(1)) if match else None


def _reply(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error_code": code, "message": message, **extra}


def _batch(items: list[Any], handle: Callable[[Any], str], answer: str = "per-item") -> dict[str, Any]:
    results = []
    for item in items:
        key = item.get("MaHoSo") if isinstance(item, dict) else None
        try:
            results.append({"MaHoSo": key, "error_code": OK, "message": handle(item)})
        except Refusal as refusal:
            results.append({"MaHoSo": key, "error_code": refusal.code, "message": refusal.message})
    refused = [r for r in results if r["error_code"] != OK]
    if not refused:
        return _reply(OK, f"Thành công {len(results)} bản ghi (all accepted)", data=results)
    if len(items) == 1:
        return _reply(str(refused[0]["error_code"]), str(refused[0]["message"]), data=results)
    if answer == "named":
        return _reply(str(refused[0]["error_code"]), str(refused[0]["message"]))
    return _reply(E_BATCH, f"{len(refused)}/{len(results)} bản ghi bị từ chối (some records refused)", data=results)


class PortalApp:
    """The HTTP layer: routes, fault application and the three transport variants."""

    def __init__(self, state: PortalState, faults: FaultInjector) -> None:
        self.state = state
        self.faults = faults

    async def _serve(
        self, family: str, operation: str | None, work: Callable[[Decision], Awaitable[Response]]
    ) -> Response:
        decision = self.faults.decide(family, operation)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.hang:
            await asyncio.sleep(decision.hang)
            return Response(status_code=504)
        if decision.rate_limited is not None:
            return JSONResponse(
                {"error_code": "429", "message": "Quá nhiều yêu cầu (too many requests)"},
                status_code=429,
                headers={"Retry-After": str(decision.rate_limited)},
            )
        if decision.error_status is not None:
            return Response(
                b"<html><body>Service Unavailable</body></html>",
                status_code=decision.error_status,
                media_type="text/html",
            )
        if decision.error_in_200:
            return JSONResponse(_reply(E_SYSTEM, "Lỗi hệ thống, vui lòng thử lại sau (system error)"))
        try:
            response = await work(decision)
        except ClientDisconnect:  # the hub gave up on the call (a timeout, a killed worker): nobody reads an answer
            return Response(status_code=499)
        if decision.truncate or decision.malformed:
            body = bytes(response.body)
            body = truncate(body) if decision.truncate else malform_json(body)
            return Response(body, status_code=response.status_code, media_type="application/json")
        return response

    # -- session adapter ----------------------------------------------------------------------------------------

    async def auth(self, request: Request) -> Response:
        async def work(decision: Decision) -> Response:
            data = await _json(request)
            if not isinstance(data, dict):
                return JSONResponse(_reply(E_INVALID, "Dữ liệu không phải JSON (body is not JSON)"))
            try:
                token = self.state.login(
                    str(data.get("username", "")), str(data.get("password", "")), request.headers.get("dstcode", "")
                )
            except Refusal as refusal:
                return JSONResponse(_reply(refusal.code, refusal.message))
            return JSONResponse({"error_code": OK, "message": "Thành công", "session": token})

        return await self._serve("dvcqg", "auth", work)

    async def integration(self, request: Request) -> Response:
        data = await _json(request)
        service = str(data.get("service", "")) if isinstance(data, dict) else ""

        async def work(decision: Decision) -> Response:
            if not isinstance(data, dict):
                return JSONResponse(_reply(E_INVALID, "Dữ liệu không phải JSON (body is not JSON)"))
            try:
                if decision.expire_session:
                    self.state.sessions.pop(str(data.get("session", "")), None)
                self.state.check_session(str(data.get("session", "")))
                return JSONResponse(self.call(service, data))
            except Refusal as refusal:
                return JSONResponse(_reply(refusal.code, refusal.message))

        return await self._serve("dvcqg", service or None, work)

    def call(self, service: str, data: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        if service == "TraCuuHoSo":
            code = str(data.get("mahoso", ""))
            found = state.dossier(code)
            message = "Thành công" if found else f"Không tìm thấy hồ sơ {code} (not found)"
            return _reply(OK, message, data=found["record"] if found else None)
        if service == "DongBoHoSoMC":
            items = _items(data.get("data"))
            if len(items) > MAX_BATCH:
                raise Refusal(E_INVALID, f"Tối đa {MAX_BATCH} hồ sơ mỗi lần (at most {MAX_BATCH} per call)")
            updating = str(data.get("isUpdating", "False")).lower() == "true"
            return _batch(items, lambda r: state.upsert(r, updating=updating), state.batch_answer)
        if service == "CapNhatTienDoHoSoMC":
            return self._progress(_items(data.get("data")))
        if service == "LayThuTuc":
            code = str(data.get("maTTHC", ""))
            if code not in state.catalogue:
                raise Refusal(E_PROCEDURE, f"Mã thủ tục {code} không tồn tại (unknown procedure)")
            return _reply(OK, "Thành công", data=state.procedure(code))
        if service == "LayDanhSachTTHC":
            return _reply(OK, "Thành công", data=[state.procedure(c) for c in sorted(state.catalogue)])
        if service == "LayDanhMucLinhVuc":
            fields = sorted({(p.field_code, p.field_name) for p in state.catalogue.values()})
            return _reply(OK, "Thành công", data=[{"MaLinhVuc": c, "TenLinhVuc": n} for c, n in fields])
        if service == "LayDanhMucCoQuan":
            units = [
                {"MaCoQuan": u.agency_id, "MaDonVi": u.code, "TenCoQuan": u.name, "Cap": _level(u.level)}
                for u in state.topology.units
            ]
            return _reply(OK, "Thành công", data=units)
        raise Refusal(E_SERVICE, f"Dịch vụ {service!r} không tồn tại (unknown service)")

    def _progress(self, items: list[Any]) -> dict[str, Any]:
        if len(items) > MAX_PROGRESS:
            with self.state.lock:
                self.state.refused[E_TOO_MANY] += 1
            raise Refusal(
                E_TOO_MANY,
                f"Tối đa {MAX_PROGRESS} tiến độ mỗi lần, nhận {len(items)} "
                f"(at most {MAX_PROGRESS} progress entries per call)",
            )
        return _batch(items, self.state.add_progress)

    # -- URL per operation --------------------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        operation = request.path_params["operation"]

        async def work(decision: Decision) -> Response:
            if not self._basic_ok(request):
                return JSONResponse(
                    _reply(E_AUTH, "Sai thông tin xác thực (bad credentials)"),
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="dvcqg"'},
                )
            return JSONResponse(self.api_call(operation, await _json(request)))

        return await self._serve("api", operation, work)

    def api_call(self, operation: str, data: Any) -> dict[str, Any]:
        try:
            if operation == "create":
                return _batch(_items(data), lambda r: self.state.upsert(r, updating=False), self.state.batch_answer)
            if operation == "update":
                return _batch(_items(data), lambda r: self.state.upsert(r, updating=True), self.state.batch_answer)
            if operation == "progress":
                return self._progress(_items(data))
        except Refusal as refusal:
            return _reply(refusal.code, refusal.message)
        return _reply(E_SERVICE, f"Không có thao tác {operation} (unknown operation)")

    async def api_lookup(self, request: Request) -> Response:
        async def work(decision: Decision) -> Response:
            if not self._basic_ok(request):
                return JSONResponse(_reply(E_AUTH, "Sai thông tin xác thực (bad credentials)"), status_code=401)
            found = self.state.dossier(request.path_params["code"])
            return JSONResponse(_reply(OK, "Thành công", data=found["record"] if found else None))

        return await self._serve("api", "lookup", work)

    def _basic_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return self.state.check_password(user, password)

    # -- LGSP gateway -------------------------------------------------------------------------------------------

    async def lgsp_token(self, request: Request) -> Response:
        async def work(decision: Decision) -> Response:
            form = await request.form()
            user, password = str(form.get("client_id", "")), str(form.get("client_secret", ""))
            header = request.headers.get("authorization", "")
            if header.lower().startswith("basic "):
                user, _, password = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
            if form.get("grant_type") != "client_credentials":
                return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
            if not self.state.check_password(user, password):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            return JSONResponse(
                {
                    "access_token": self.state.issue_token(),
                    "token_type": "Bearer",
                    "expires_in": int(self.state.token_ttl),
                }
            )

        return await self._serve("lgsp", "token", work)

    async def lgsp_proxy(self, request: Request) -> Response:
        path = request.path_params["path"]
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        decision_probe = self.faults.decide("lgsp", "auth")
        if decision_probe.expire_session:
            self.state.tokens.pop(token, None)
        if not self.state.token_valid(token):
            return JSONResponse(
                {"error": "invalid_token", "error_description": "Access token expired or invalid"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if path == "dvcqg/auth":
            return await self.auth(request)
        if path == "dvcqg/integration":
            return await self.integration(request)
        if path.startswith("api/hoso/"):
            request.path_params["operation"] = path.removeprefix("api/hoso/")
            return await self.api(request)
        if path == "danhmuc/donvi":
            level, parent = request.query_params.get("cap"), request.query_params.get("cha")
            units = [
                {
                    "MaDonVi": u.code,
                    "Ten": u.name,
                    "Cap": _level(u.level),
                    "MaDonViCha": u.parent,
                    "MaDinhDanh": u.agency_id,
                }
                for u in self.state.topology.units
                if (level is None or _level(u.level) == level) and (parent is None or u.parent == parent)
            ]
            return JSONResponse(_reply(OK, "Thành công", data=units))
        return JSONResponse({"error": "not_found"}, status_code=404)

    # -- inspection ---------------------------------------------------------------------------------------------

    async def inspect_dossiers(self, request: Request) -> Response:
        with self.state.lock:
            return JSONResponse(dict(self.state.dossiers))

    async def inspect_dossier(self, request: Request) -> Response:
        found = self.state.dossier(request.path_params["code"])
        return JSONResponse(found) if found else JSONResponse({"error": "not found"}, status_code=404)

    async def inspect_stats(self, request: Request) -> Response:
        return JSONResponse(self.state.stats())

    async def inspect_reset(self, request: Request) -> Response:
        self.state.reset()
        return JSONResponse({"reset": True})

    async def expire_sessions(self, request: Request) -> Response:
        self.state.expire_all()
        return JSONResponse({"expired": True})


def create_app(app: PortalApp) -> Starlette:
    routes = [
        Route("/dvcqg/auth", app.auth, methods=["POST"]),
        Route("/dvcqg/integration", app.integration, methods=["POST"]),
        Route("/api/hoso/{code:str}", app.api_lookup, methods=["GET"]),
        Route("/api/hoso/{operation:str}", app.api, methods=["POST"]),
        Route("/lgsp/token", app.lgsp_token, methods=["POST"]),
        Route("/lgsp/{path:path}", app.lgsp_proxy, methods=["GET", "POST"]),
        Route("/inspect/dossiers", app.inspect_dossiers, methods=["GET"]),
        Route("/inspect/dossiers/{code:str}", app.inspect_dossier, methods=["GET"]),
        Route("/inspect/stats", app.inspect_stats, methods=["GET"]),
        Route("/inspect/reset", app.inspect_reset, methods=["POST"]),
        Route("/_control/expire-sessions", app.expire_sessions, methods=["POST"]),
        *control.routes(app.faults),
    ]
    return Starlette(routes=routes)


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None:
        return []
    return [value]


def _level(level: Level) -> str:
    return {Level.PROVINCE: "TINH", Level.DISTRICT: "HUYEN", Level.COMMUNE: "XA"}[level]
