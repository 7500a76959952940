"""The national portal (DVCQG) over REST, in its three transport variants, behind the :class:`Target` interface.

A variant is two small strategies passed in (``docs/domain/dvcqg-contract.md``):

- an :class:`~connectors.auth.Auth`: :class:`SessionLogin` (session adapter: log in, put the session in every body,
  log in again when it expires), or one of :mod:`connectors.auth`'s, which every HTTP system shares (the LGSP
  gateway's OAuth2 client credentials, HTTP Basic, none);
- a :class:`Routing`: :class:`ServiceEnvelope` (one integration URL, the service named in the body) or
  :class:`UrlPerOperation` (a URL per operation, the records as a bare JSON array).

The connector does the idempotent upsert (look the dossier up, then create or update it), batches dossiers by
configuration and progress entries by at most ten, and classifies every answer through the error table, including
the ``error_code`` a portal puts inside an HTTP 200 body (:func:`portal_body`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, Self
from urllib.parse import quote

import requests

from connectors.auth import Auth, Authorized
from connectors.base import Health, PushResult, RawRecord
from connectors.content import same_content
from connectors.errors import (
    DEFAULT_BOUNDS,
    AuthenticationFailed,
    BodyCheck,
    Bounds,
    ErrorTable,
    RemoteRejected,
    Resolution,
    Verdict,
    http_verdict,
    raise_for,
    to_error,
    unreadable_verdict,
    with_reauth,
)
from connectors.http import Endpoint
from connectors.recording import redact_json_text
from foundation.credentials import Credentials
from foundation.errors import ConfigurationError, HubError, PermanentError
from foundation.redaction import scrub

PROGRESS_CHUNK_MAX = 10  # the portal takes at most ten progress entries per call
EXISTS_MARKER = "đã tồn tại"  # "already exists": the create URL refused a dossier the portal has
EXISTS_CODES = frozenset({"24"})  # the simulator's code for it; the marker catches portals without a code


# ── body check: the override point for errors reported inside an HTTP 200 ────────────────────────────────────


def portal_body(table: ErrorTable) -> BodyCheck:
    """The portal's ``{"error_code": ..., "message": ...}`` convention, classified by ``table``'s portal rows."""

    def check(body: Any) -> Verdict:
        if not isinstance(body, Mapping) or "error_code" not in body:
            # A bare array or an object without error_code (a catalogue answer) is data, not a status.
            return Verdict(Resolution.OK)
        code = body.get("error_code")
        resolution = table.error_code(code)
        message = body.get("message") or body.get("error_message")
        return Verdict(
            resolution,
            status_code=200,
            error_code=None if code is None else str(code),
            remote_message=None if resolution is Resolution.OK or message is None else str(message),
        )

    return check


# ── auth strategies ──────────────────────────────────────────────────────────────────────────────────────────


class Layered:
    """A gateway's auth around a portal's (LGSP: a bearer token to pass the gateway, then the portal's session)."""

    def __init__(self, outer: Auth, inner: SessionLogin) -> None:
        self.outer = outer
        self.inner = inner
        inner.outer = outer

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        first = self.outer.authorize(endpoint, unit_code)
        second = self.inner.authorize(endpoint, unit_code)
        return Authorized(headers={**first.headers, **second.headers}, fields={**first.fields, **second.fields})

    def invalidate(self, unit_code: str) -> None:
        self.outer.invalidate(unit_code)
        self.inner.invalidate(unit_code)

    def secrets(self) -> Iterable[str]:
        return [*self.outer.secrets(), *self.inner.secrets()]


class SessionLogin:
    """Session adapter login: ``POST auth_url`` with username and password answers a session, kept until refused.

    Sessions are kept per ``dstcode`` (the calling unit's code, or the configured ``caller_unit``).
    """

    def __init__(
        self,
        auth_url: str,
        credentials: Credentials,
        *,
        caller_unit: str | None = None,
        unit_header: str = "dstcode",
        body_check: BodyCheck,
        table: ErrorTable,
    ) -> None:
        self.auth_url = auth_url
        self.credentials = credentials
        self.caller_unit = caller_unit
        self.unit_header = unit_header
        self.body_check = body_check
        self.table = table
        self._sessions: dict[str, str] = {}
        self._lock = threading.RLock()  # secrets() is read while a login holds it
        self.outer: Auth | None = None  # set by Layered: the gateway's auth the login call must carry too

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        dstcode = self.caller_unit or unit_code
        with self._lock:
            session = self._sessions.get(dstcode)
        if session is None:
            session = self._login(endpoint, dstcode)
            with self._lock:
                self._sessions[dstcode] = session
        return Authorized(headers={self.unit_header: dstcode}, fields={"session": session})

    def invalidate(self, unit_code: str) -> None:
        with self._lock:
            self._sessions.pop(self.caller_unit or unit_code, None)

    def secrets(self) -> Iterable[str]:
        with self._lock:
            return [self.credentials.password.get_secret_value(), *self._sessions.values()]

    def _login(self, endpoint: Endpoint, dstcode: str) -> str:
        response = endpoint.send(
            "login",
            "POST",
            self.auth_url,
            json={"username": self.credentials.username, "password": self.credentials.password.get_secret_value()},
            headers={
                self.unit_header: dstcode,
                **(self.outer.authorize(endpoint, dstcode).headers if self.outer else {}),
            },
            redacted_request=f'{{"username": "{self.credentials.username}", "password": "[removed]"}}',
            redact_response=_redacted_json,
        )
        body = _checked_body(
            response, self.table, self.body_check, endpoint.system, "login", login=True, bounds=endpoint.bounds
        )
        session = body.get("session") if isinstance(body, Mapping) else None
        if not session:
            raise_for(
                Verdict(Resolution.PERMANENT, status_code=response.status_code, remote_message="no session"),
                system=endpoint.system,
                operation="login",
            )
        return str(session)


# ── routing strategies ───────────────────────────────────────────────────────────────────────────────────────


class Routing(Protocol):
    """Where a service call goes and what its JSON body looks like."""

    def route(
        self, service: str, unit_code: str, params: Mapping[str, Any], *, updating: bool
    ) -> tuple[str, str, Any]: ...

    @property
    def looks_up(self) -> bool:
        """Whether the portal answers ``TraCuuHoSo`` (else the create URL's "đã tồn tại" decides)."""
        ...


class ServiceEnvelope:
    """Session adapter and LGSP: one integration URL; ``service`` and ``madonvi`` travel in the body."""

    looks_up = True

    def __init__(self, url: str) -> None:
        self.url = url

    def route(self, service: str, unit_code: str, params: Mapping[str, Any], *, updating: bool) -> tuple[str, str, Any]:
        body = {"madonvi": unit_code, "service": service, **params}
        if service == "DongBoHoSoMC":
            body["isUpdating"] = "True" if updating else "False"
        return "POST", self.url, body


class UrlPerOperation:
    """A URL per operation: dossiers as a bare JSON array to a create or an update URL, progress to its own URL."""

    def __init__(self, base_url: str, paths: Mapping[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.paths = dict(paths)

    @property
    def looks_up(self) -> bool:
        return "TraCuuHoSo" in self.paths

    def route(self, service: str, unit_code: str, params: Mapping[str, Any], *, updating: bool) -> tuple[str, str, Any]:
        key = "DongBoHoSoMC.update" if service == "DongBoHoSoMC" and updating else service
        path = self.paths.get(key)
        if path is None:
            raise ConfigurationError(f"Chưa cấu hình URL cho {key} (no URL configured for {key})")
        if service == "TraCuuHoSo":
            # A look-up is a GET of the dossier's own URL: paths["TraCuuHoSo"] holds "{mahoso}".
            return "GET", self.base_url + path.format(mahoso=quote(str(params["mahoso"]), safe="")), None
        url = self.base_url + path
        if "data" in params:
            return "POST", url, params["data"]
        return "POST", url, {"madonvi": unit_code, **params}


# ── the connector ────────────────────────────────────────────────────────────────────────────────────────────


class DvcqgConnector:
    """The national portal as a :class:`~connectors.base.Target`, plus its catalogue calls."""

    def __init__(
        self,
        endpoint: Endpoint,
        auth: Auth,
        routing: Routing,
        *,
        body_check: BodyCheck | None = None,
        batch_size: int = 50,
        progress_chunk: int = PROGRESS_CHUNK_MAX,
        unit_header: str = "dstcode",
        caller_unit: str | None = None,
        code_field: str = "MaHoSo",
        found: Callable[[Any], RawRecord | None] | None = None,
    ) -> None:
        if not 1 <= progress_chunk <= PROGRESS_CHUNK_MAX:
            raise ValueError(f"progress_chunk must be 1..{PROGRESS_CHUNK_MAX}")
        self.endpoint = endpoint
        self.auth = auth
        self.routing = routing
        self.body_check = body_check or portal_body(endpoint.table)
        self.batch_size = max(batch_size, 1)
        self.progress_chunk = progress_chunk
        self.unit_header = unit_header
        self.caller_unit = caller_unit
        self.code_field = code_field
        self.found = found or _lookup_record
        endpoint.secrets = auth.secrets

    @property
    def system(self) -> str:
        return self.endpoint.system

    # ── Target ──

    def lookup(self, unit_code: str, dossier_code: str) -> RawRecord | None:
        if not self.routing.looks_up:
            return None
        try:
            body = self.call("TraCuuHoSo", unit_code, {"mahoso": dossier_code}, dossier_code=dossier_code)
        except RemoteRejected as exc:
            if _not_found(exc):
                return None
            raise
        return self.found(body)

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        results: dict[int, PushResult] = {}
        for start in range(0, len(records), self.batch_size):
            batch = list(enumerate(records[start : start + self.batch_size], start))
            if self.routing.looks_up:
                if existing is not None:
                    known = {i for i, r in batch if self._code(r) in existing}
                else:
                    found = {i: self.lookup(unit_code, self._code(r)) for i, r in batch}
                    known = {i for i, f in found.items() if f is not None}
                    # a copy that already says what would be sent is delivered: the same content never goes twice
                    held = {i for i, r in batch if (f := found[i]) is not None and same_content(f, r)}
                    results |= {i: PushResult(self._code(r), created=False) for i, r in batch if i in held}
                    batch = [(i, r) for i, r in batch if i not in held]
                updates = [(i, r) for i, r in batch if i in known]
                creates = [(i, r) for i, r in batch if i not in known]
                results |= self._sync(unit_code, creates, updating=False)
                results |= self._sync(unit_code, updates, updating=True)
            else:
                results |= self._sync(unit_code, batch, updating=False)
        return [results[i] for i in range(len(records))]

    def push_progress(self, unit_code: str, entries: Sequence[RawRecord]) -> list[PushResult]:
        results: list[PushResult] = []
        for start in range(0, len(entries), self.progress_chunk):
            chunk = list(entries[start : start + self.progress_chunk])
            results.extend(self._send_each_on_refusal(unit_code, "CapNhatTienDoHoSoMC", chunk, updating=False))
        return results

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            self.auth.authorize(self.endpoint, self.caller_unit or "0")
        except HubError as exc:
            return Health(ok=False, latency_ms=_ms(started), detail=exc.message)
        return Health(ok=True, latency_ms=_ms(started), detail="authenticated")

    # ── catalogue ──

    def procedure(self, national_code: str, unit_code: str | None = None) -> RawRecord | None:
        """One procedure of the national catalogue (``LayThuTuc``), or None when the portal has no such code."""
        try:
            body = self.call("LayThuTuc", unit_code or self.caller_unit or "", {"maTTHC": national_code})
        except RemoteRejected as exc:
            if _not_found(exc):
                return None
            raise
        return self.found(body)

    def procedures(self, unit_code: str | None = None, **params: Any) -> list[RawRecord]:
        """The national procedure catalogue (``LayDanhSachTTHC``)."""
        body = self.call("LayDanhSachTTHC", unit_code or self.caller_unit or "", params)
        data = body.get("data") if isinstance(body, Mapping) else body
        return [dict(item) for item in data or []]

    def agencies(self, unit_code: str | None = None, **params: Any) -> list[RawRecord]:
        """The portal's agency catalogue (``LayDanhMucCoQuan``), for ``daily:unit-catalogue``."""
        body = self.call("LayDanhMucCoQuan", unit_code or self.caller_unit or "", params)
        data = body.get("data") if isinstance(body, Mapping) else body
        return [dict(item) for item in data or []]

    # ── the one call path ──

    def call(
        self,
        service: str,
        unit_code: str,
        params: Mapping[str, Any],
        *,
        updating: bool = False,
        dossier_code: str | None = None,
        per_item: bool = False,
    ) -> Any:
        """One service call, authenticated, classified, re-authenticated once when the remote asks; the body.

        With ``per_item`` an answer that carries one result per record is returned as is, for the caller to read
        record by record (the portal's "-1: some records refused").
        """
        check = _per_item_or(self.body_check) if per_item else self.body_check

        def once() -> Any:
            try:
                authorized = self.auth.authorize(self.endpoint, unit_code)
                method, url, body = self.routing.route(service, unit_code, params, updating=updating)
                if isinstance(body, dict):
                    body = {**body, **authorized.fields}
                headers = {self.unit_header: self.caller_unit or unit_code, **authorized.headers}
                response = self.endpoint.send(
                    service,
                    method,
                    url,
                    json=body,
                    headers=headers,
                )
                return _checked_body(
                    response, self.endpoint.table, check, self.system, service, bounds=self.endpoint.bounds
                )
            except HubError as exc:
                # A remote may echo what it was sent: the password, the session or the token never leave here.
                _scrub_error(exc, self.auth.secrets())
                exc.dossier_code = exc.dossier_code or dossier_code
                if exc.error_class == "authentication_failed":
                    self.auth.invalidate(unit_code)
                raise

        return with_reauth(once, lambda: None)

    # ── internals ──

    def _sync(self, unit_code: str, batch: list[tuple[int, RawRecord]], *, updating: bool) -> dict[int, PushResult]:
        if not batch:
            return {}
        results = self._send_each_on_refusal(unit_code, "DongBoHoSoMC", [r for _, r in batch], updating=updating)
        out: dict[int, PushResult] = {}
        for (i, record), result in zip(batch, results, strict=True):
            if not updating and isinstance(result.error, RemoteRejected) and _exists(result.error):
                # The portal refuses to create what it has. When its copy already says what was sent (an earlier
                # attempt stored it, its answer lost), that is the success; otherwise the record goes to update.
                if self._holds(unit_code, record):
                    out[i] = PushResult(result.dossier_code, created=False)
                    continue
                result = self._send_each_on_refusal(unit_code, "DongBoHoSoMC", [record], updating=True)[0]
                out[i] = PushResult(result.dossier_code, result.error, created=False)
            else:
                out[i] = PushResult(result.dossier_code, result.error, created=result.ok and not updating)
        return out

    def _send_each_on_refusal(
        self, unit_code: str, service: str, records: list[RawRecord], *, updating: bool
    ) -> list[PushResult]:
        """Send a batch and read one result per record; when the portal refuses the batch as a whole without
        saying which record, send each record alone to find the culprit."""
        codes = [self._code(r) for r in records]
        try:
            body = self.call(
                service,
                unit_code,
                {"data": records},
                updating=updating,
                dossier_code=codes[0] if len(set(codes)) == 1 else None,
                per_item=True,
            )
        except PermanentError as exc:
            if len(records) == 1 or isinstance(exc, AuthenticationFailed | ConfigurationError):
                # the endpoint, not a record, is the problem (a refused login, a refused redirect): no record alone
                # would fare better
                return [PushResult(code, error=exc) for code in codes]
            named = _named(exc, codes)
            if named is not None:
                # A portal that stores a batch's good records answers with the one it refused, by its code: the
                # others are stored, and sending them again would push the same content twice.
                exc.dossier_code = named
                return [PushResult(code, error=exc if code == named else None) for code in codes]
            return [
                result
                for record in records
                for result in self._send_each_on_refusal(unit_code, service, [record], updating=updating)
            ]
        items = _item_results(body, len(records))
        if items is None:
            return [PushResult(code) for code in codes]
        results: list[PushResult] = []
        for code, item in zip(codes, items, strict=True):
            verdict = Verdict(
                self.endpoint.table.error_code(item.get("error_code")),
                status_code=200,
                error_code=str(item.get("error_code")),
                remote_message=str(item.get("message") or "") or None,
            )
            if verdict.ok:
                results.append(PushResult(code))
            elif verdict.resolution is Resolution.PERMANENT:
                results.append(
                    PushResult(code, error=to_error(verdict, system=self.system, operation=service, dossier_code=code))
                )
            else:
                raise_for(verdict, system=self.system, operation=service, dossier_code=code)
        return results

    def _code(self, record: RawRecord) -> str:
        return str(record.get(self.code_field, ""))

    def _holds(self, unit_code: str, record: RawRecord) -> bool:
        """Whether the portal's copy already says everything ``record`` says (False when it cannot be looked up)."""
        found = self.lookup(unit_code, self._code(record))
        return found is not None and same_content(found, record)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """The session is the process's (shared by every connector): nothing to release here."""


def _checked_body(
    response: requests.Response,
    table: ErrorTable,
    body_check: BodyCheck,
    system: str,
    operation: str,
    *,
    login: bool = False,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> Any:
    verdict = http_verdict(table, response)
    if verdict.ok:
        body = _json(response, system, operation)
        verdict = body_check(body)
    if verdict.remote_message is not None and not verdict.ok:
        verdict = replace(verdict, remote_message=bounds.cut(verdict.remote_message))
    if login and verdict.resolution is Resolution.REAUTH:
        # A refused login is not an expired session: logging in again with the same password cannot help.
        verdict = Verdict(Resolution.PERMANENT, verdict.status_code, verdict.error_code, None, verdict.remote_message)
        raise_for(verdict, system=system, operation=operation)
    raise_for(verdict, system=system, operation=operation)
    return body


def _json(response: requests.Response, system: str, operation: str) -> Any:
    """The decoded body of a complete answer; one that is not JSON is a problem of this call's record, not the
    network's (a gateway's HTML page, a truncated document, nesting deep enough to exhaust the parser)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise_for(
            unreadable_verdict(response.content, response.status_code, "câu trả lời không phải JSON (not JSON)"),
            system=system,
            operation=operation,
        )


def _lookup_record(body: Any) -> RawRecord | None:
    """The record in a look-up answer: ``data`` (an object, or a one-item list), or None when empty."""
    data = body.get("data") if isinstance(body, Mapping) else body
    if isinstance(data, list):
        data = data[0] if data else None
    return dict(data) if isinstance(data, Mapping) and data else None


def _not_found(exc: RemoteRejected) -> bool:
    text = (exc.remote_message or "").lower()
    return exc.status_code == 404 or "không tìm thấy" in text or "không tồn tại" in text or "not found" in text


def _exists(exc: RemoteRejected) -> bool:
    return exc.error_code in EXISTS_CODES or EXISTS_MARKER in (exc.remote_message or "").lower()


def _named(exc: PermanentError, codes: Sequence[str]) -> str | None:
    """The one dossier of a batch a whole-batch refusal names (its code in the message), or None."""
    text = exc.remote_message or ""
    named = {code for code in codes if code and code in text}
    return named.pop() if len(named) == 1 else None


def _item_results(body: Any, count: int) -> list[Mapping[str, Any]] | None:
    """The per-record results of a batch answer, when it has exactly one per record sent."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if (
        isinstance(data, list)
        and len(data) == count
        and all(isinstance(i, Mapping) and "error_code" in i for i in data)
    ):
        return data
    return None


def _per_item_or(check: BodyCheck) -> BodyCheck:
    def per_item(body: Any) -> Verdict:
        if isinstance(body, Mapping) and isinstance(body.get("data"), list) and body["data"]:
            first = body["data"][0]
            if isinstance(first, Mapping) and "error_code" in first:
                return Verdict(Resolution.OK)
        return check(body)

    return per_item


def _scrub_error(exc: HubError, secrets: Iterable[str]) -> None:
    secrets = list(secrets)
    exc.message = scrub(exc.message, secrets)
    exc.args = (exc.message,)
    if exc.remote_message:
        exc.remote_message = scrub(exc.remote_message, secrets)


def _redacted_json(response: requests.Response) -> str | None:
    return redact_json_text(response.content)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
