"""A one-stop-shop that speaks JSON over HTTP, as a :class:`Source`, named by a vendor profile (``transport: json``).

The profile's operations are ``"METHOD /path/{element}"`` templates relative to the system's base URL: request
elements named in the path are filled in, the others go to the query string. Response paths are dotted paths into
the JSON body. Records come back in the default vendor's shape (:func:`mappings.vendors.to_default`), exactly as the
SOAP connector's do, so ``systems/motcua/mapping.py`` maps both. Calls go through the :class:`Endpoint` (breaker, rate
limit, recording); authentication is the system's :mod:`connectors.auth` strategy (a 401 drops the token and the call
is made once more with a fresh one); a status that is not 2xx is classified by the error table here. A method other
than GET sends the elements not named in the path as its JSON body (a status update).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote, urlencode

import requests

from connectors.auth import Auth
from connectors.base import Health, PushResult, RawRecord
from connectors.changes import ChangeFeed, ProfileDrivenSource, request_body
from connectors.errors import (
    AuthenticationFailed,
    RemoteRejected,
    Resolution,
    Verdict,
    http_verdict,
    raise_for,
    to_error,
    with_reauth,
)
from connectors.http import Endpoint
from foundation.errors import ConfigurationError, HubError, RetryableError
from foundation.redaction import personal_keys, redact_data
from mappings.units import UnitIdentity
from mappings.vendor_updates import update_request
from mappings.vendors import VendorProfile, get_path

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class JsonConnector(ProfileDrivenSource):
    """A vendor's JSON API: change feed and dossiers, and status updates of its copies when the profile has an
    update operation (liên thông)."""

    def __init__(
        self,
        endpoint: Endpoint,
        vendor: VendorProfile,
        auth: Auth,
        *,
        page_size: int = 100,
        units: UnitIdentity | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.vendor = vendor
        self.auth = auth
        self.units = units or UnitIdentity()
        self.feed = ChangeFeed(vendor, page_size, get_path, endpoint.clock)
        endpoint.secrets = auth.secrets
        self._personal = personal_keys() | frozenset(vendor.personal)

    def read_saved(self, payload: bytes) -> Mapping[str, Any]:
        """A saved answer of the dossier operation (its JSON body), read as :meth:`raw_dossier` reads a live one."""
        try:
            reply = json.loads(payload)
        except ValueError as exc:
            raise ConfigurationError(f"Bản ghi đã lưu không phải JSON / the saved record is not JSON: {exc}") from exc
        return self._record(reply, None)

    def lookup(self, unit_code: str, dossier_code: str) -> RawRecord | None:
        try:
            return self.get_dossier(unit_code, dossier_code)
        except RemoteRejected as exc:
            if self.vendor.faults.names_not_found(exc.error_code) or exc.status_code == 404:
                return None
            raise

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        """Each record is an update in the default shape, sent as the profile's ``operations.update`` (``"PUT
        /dossiers/{id}/status"``) with the JSON body ``requests.update`` shapes."""
        operation = self.vendor.operations.update
        if operation is None:
            raise ConfigurationError(
                f"{self.system}: nhà cung cấp {self.vendor.name} không nhận cập nhật trạng thái "
                "(the vendor profile has no operations.update)",
                target=self.system,
            )
        results: list[PushResult] = []
        for record in records:
            code = str(record.get("MaHoSo", ""))
            body = update_request(record, self.vendor, unit_code=self.units.to_vendor(unit_code))
            try:
                reply = self._operation("update", operation, body, dossier_code=code)
            except (RetryableError, AuthenticationFailed, ConfigurationError):
                raise  # the endpoint, not this record, is the problem: the whole call fails
            except HubError as exc:
                results.append(PushResult(code, error=exc))
                continue
            shape = self.vendor.responses.update
            outcome = get_path(reply, shape.outcome) if shape.outcome else None
            results.append(PushResult(code, created=outcome is not None and str(outcome) in shape.applied))
        return results

    def health(self) -> Health:
        started = time.perf_counter()
        operation = self.vendor.operations.health
        if operation is None:
            return Health(ok=True, latency_ms=0.0, detail="no health operation")
        try:
            reply = self._operation("health", operation, request_body(self.vendor.requests.health, {}))
        except HubError as exc:
            return Health(ok=False, latency_ms=(time.perf_counter() - started) * 1000, detail=exc.message)
        shape = self.vendor.responses.health
        status = get_path(reply, shape.status) if shape.status else None
        ok = not shape.ok or str(status) in shape.ok
        return Health(ok=ok, latency_ms=(time.perf_counter() - started) * 1000, detail=str(status))

    def _operation(self, role: str, operation: str, body: Mapping[str, Any], *, dossier_code: str | None = None) -> Any:
        """One call; a status that is not OK, or a body that is not JSON, becomes a hub error here. A 401 drops the
        credentials the auth strategy holds (an expired token) and the call is made once more; a second 401 parks."""

        def reauthenticate() -> None:
            self.auth.invalidate("")

        return with_reauth(lambda: self._once(operation, body, dossier_code), reauthenticate)

    def _once(self, operation: str, body: Mapping[str, Any], dossier_code: str | None) -> Any:
        method, _, template = operation.partition(" ")
        rest = dict(body)
        path = _PLACEHOLDER.sub(lambda m: quote(_text(rest.pop(m.group(1), "")), safe=""), template)
        url = f"{self.endpoint.base_url}{path}"
        payload = None
        if method.upper() == "GET":  # the other elements go to the query string
            if rest:
                url += "?" + urlencode({k: _text(v) for k, v in rest.items()})
        else:  # or to the JSON body
            payload = _jsonable(rest)
        shown = url if payload is None else f"{url} {json.dumps(redact_data(payload, personal=self._personal))}"
        response = self.endpoint.send(
            operation,
            method.upper(),
            url,
            json=payload,
            headers={"Accept": "application/json", **self.auth.authorize(self.endpoint, "").headers},
            redacted_request=shown,
            redact_response=self._redacted,
        )
        verdict = http_verdict(self.endpoint.table, response)
        if not verdict.ok:
            error_code = _error_code(response)
            verdict = Verdict(
                verdict.resolution, verdict.status_code, error_code, None, verdict.remote_message, verdict.retry_after
            )
        raise_for(verdict, system=self.system, operation=operation, dossier_code=dossier_code)
        try:
            return response.json()
        except requests.JSONDecodeError as exc:
            raise to_error(
                Verdict(
                    Resolution.UNREADABLE,
                    status_code=response.status_code,
                    remote_message=f"JSON không đọc được: {exc.msg} ở ký tự {exc.pos} (truncated or not JSON)",
                ),
                system=self.system,
                operation=operation,
                dossier_code=dossier_code,
            ) from exc

    def _redacted(self, response: requests.Response) -> str | None:
        try:
            return json.dumps(redact_data(response.json(), personal=self._personal), ensure_ascii=False)
        except requests.JSONDecodeError:
            return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """The shared session belongs to the process: nothing to release."""


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except requests.JSONDecodeError:
        return None
    code = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(code, Mapping):  # {"error": {"code": "NOT_FOUND", "message": ...}}: the code, not the object
        code = code.get("code")
    return str(code) if code is not None else None
