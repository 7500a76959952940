"""The one-stop-shop's SOAP service (zeep) as a :class:`Source` and a :class:`Target`, named by a vendor profile.

Every call has explicit connect and operation timeouts, carries a WS-Security UsernameToken (text or digest) and/or
the profile's custom headers (:mod:`connectors.soap_headers`), and goes through the shared transport of
:mod:`connectors.soap`. :meth:`SoapConnector._operation` is the one place where
zeep's, lxml's and requests' exceptions become the hub's errors. Records come back as plain dicts in the default
vendor's shape (:func:`mappings.vendors.to_default`); :mod:`systems.motcua.mapping` makes canonical dossiers of them.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar, Self

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree
from zeep.wsdl import Document
from zeep.wsse.username import UsernameToken

from connectors.base import Health, PushResult, RawRecord
from connectors.changes import ChangeFeed, ProfileDrivenSource, request_body
from connectors.dataset import DataSetAsElements
from connectors.errors import (
    AuthenticationFailed,
    RemoteNotFound,
    Resolution,
    SoapFault,
    Verdict,
    fault_verdict,
    http_verdict,
    raise_for,
    transport_verdict,
    unreadable_verdict,
    with_reauth,
)
from connectors.http import Endpoint
from connectors.recording import Exchange, NullRecorder, wire_text
from connectors.soap import (
    HTML_DOCTYPE,
    SAVED_PARSER,
    EnvelopeRecorder,
    GuardedTransport,
    HttpStatus,
    wsdl_document,
    zeep_settings,
)
from connectors.soap_headers import CustomHeaders, HeaderElement, header_pattern
from foundation.credentials import Credentials
from foundation.errors import ConfigurationError, HubError, RetryableError
from foundation.redaction import scrub
from mappings.vendor_updates import update_request
from mappings.vendors import VendorProfile, get_path

# ── the connector ────────────────────────────────────────────────────────────────────────────────────────────


class SoapConnector(ProfileDrivenSource):
    """A vendor's one-stop-shop service: change feed, dossiers, and status updates with progress (liên thông)."""

    progress_carries_revision: ClassVar[bool] = True

    def __init__(
        self,
        endpoint: Endpoint,
        vendor: VendorProfile,
        credentials: Credentials,
        *,
        wsdl: str | None = None,
        use_digest: bool = False,
        page_size: int = 100,
        strict: bool = True,
    ) -> None:
        self.endpoint = endpoint
        self.vendor = vendor
        self.feed = ChangeFeed(vendor, page_size, _at, endpoint.clock)
        self._password = credentials.password.get_secret_value()
        endpoint.secrets = lambda: (self._password,)
        headers = [
            HeaderElement(h.element, h.namespace, h.values(credentials.username, self._password))
            for h in vendor.headers
        ]
        self.envelopes = EnvelopeRecorder(frozenset(vendor.personal), header_pattern([h.element for h in headers]))
        location = wsdl or (str(vendor.wsdl_path) if vendor.wsdl_path else f"{endpoint.base_url}?wsdl")
        try:
            document = wsdl_document(location, endpoint.session, strict=strict, timeout=endpoint.timeouts.read)
        except (requests.RequestException, zeep.exceptions.Error, etree.LxmlError, OSError) as exc:
            raise ConfigurationError(
                f"Không đọc được WSDL của {endpoint.system} tại {location} / cannot load the WSDL: {type(exc).__name__}"
            ) from exc
        self.client = zeep.Client(  # type: ignore[no-untyped-call]
            document,
            transport=GuardedTransport(endpoint, self.envelopes),
            wsse=UsernameToken(credentials.username, self._password, use_digest=use_digest)  # type: ignore[no-untyped-call]
            if vendor.ws_security
            else None,
            plugins=[
                *([CustomHeaders(headers)] if headers else []),
                *([DataSetAsElements()] if vendor.responses.changes.dataset else []),
            ],
            settings=zeep_settings(strict=strict),
        )
        self.service = self._bind(document, endpoint.base_url)

    def _bind(self, document: Document, address: str) -> Any:
        services = document.services
        service = services[self.vendor.service] if self.vendor.service else next(iter(services.values()))
        port = service.ports[self.vendor.port] if self.vendor.port else next(iter(service.ports.values()))
        self._binding = port.binding
        return self.client.create_service(port.binding.name, address)  # type: ignore[no-untyped-call]

    # ── Source ──

    def read_saved(self, payload: bytes) -> Mapping[str, Any]:
        """A saved answer of the dossier operation (a SOAP envelope), read as :meth:`raw_dossier` reads a live one."""
        operation = self.vendor.operations.dossier
        try:
            envelope = etree.fromstring(payload, SAVED_PARSER)
            reply = self._binding.get(operation).process_reply(envelope)
        except (etree.LxmlError, zeep.exceptions.Error, ValueError) as exc:
            raise ConfigurationError(
                f"Không đọc được bản ghi đã lưu: cần phong bì SOAP trả lời {operation} / "
                f"not a saved {operation} answer envelope: {exc}"
            ) from exc
        return self._record(zeep.helpers.serialize_object(reply, target_cls=dict), None)  # type: ignore[no-untyped-call]

    def answers(self, unit_code: str, since: datetime, dossier_code: str | None) -> dict[str, Any]:
        out = super().answers(unit_code, since, dossier_code)
        roles = {"changes": self.vendor.operations.changes, "dossier": self.vendor.operations.dossier}
        return {role: self._named(roles[role], reply) for role, reply in out.items()}

    def _named(self, operation: str, reply: Any) -> Any:
        """zeep unwraps an answer whose wrapper holds one element (``_at`` allows for it); the probe shows the answer
        under that element's name, the name a profile path starts with."""
        elements = self._binding.get(operation).output.body.type.elements
        if len(elements) == 1:
            name = elements[0][0]
            if not isinstance(reply, Mapping) or name not in reply:
                return {name: reply}
        return reply

    # ── Target ──

    def lookup(self, unit_code: str, dossier_code: str) -> RawRecord | None:
        try:
            return self.get_dossier(unit_code, dossier_code)
        except RemoteNotFound:
            return None

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        """Each record is an update in the default shape (MaHoSo, TrangThai, PhienBanNguon, DanhSachTienDo), sent in
        the vendor's shape (``requests.update``, :func:`mappings.vendor_updates.update_request`)."""
        results: list[PushResult] = []
        for record in records:
            code = str(record.get("MaHoSo", ""))
            body = update_request(record, self.vendor, unit_code=self.units.to_vendor(unit_code))
            try:
                reply = self._operation("update", self._update_operation(), body, dossier_code=code)
            except (RetryableError, AuthenticationFailed, ConfigurationError):
                raise  # the endpoint, not this record, is the problem: the whole call fails
            except HubError as exc:
                results.append(PushResult(code, error=exc))
                continue
            shape = self.vendor.responses.update
            outcome = _at(reply, shape.outcome) if shape.outcome else None
            results.append(PushResult(code, created=outcome is not None and str(outcome) in shape.applied))
        return results

    def _update_operation(self) -> str:
        operation = self.vendor.operations.update
        if operation is None:
            raise ConfigurationError(
                f"{self.system}: nhà cung cấp {self.vendor.name} không nhận cập nhật trạng thái "
                "(the vendor profile has no operations.update)",
                target=self.system,
            )
        return operation

    def health(self) -> Health:
        started = time.perf_counter()
        operation = self.vendor.operations.health
        if operation is None:
            return Health(ok=True, latency_ms=0.0, detail="no health operation")
        try:
            reply = self._operation("health", operation, request_body(self.vendor.requests.health, {}))
        except HubError as exc:
            return Health(ok=False, latency_ms=_ms(started), detail=exc.message)
        shape = self.vendor.responses.health
        status = _at(reply, shape.status) if shape.status else None
        ok = not shape.ok or str(status) in shape.ok
        return Health(ok=ok, latency_ms=_ms(started), detail=str(status))

    # ── the one boundary ──

    def _operation(self, role: str, operation: str, body: Mapping[str, Any], *, dossier_code: str | None = None) -> Any:
        """Call ``operation``; every foreign exception becomes a hub error here, and nowhere else."""

        def once() -> Any:
            self.envelopes.begin(operation, self.endpoint.clock())
            error: HubError | None = None
            try:
                reply = getattr(self.service, operation)(**{k: v for k, v in body.items() if v is not None})
                return zeep.helpers.serialize_object(reply, target_cls=dict)  # type: ignore[no-untyped-call]
            except HubError as exc:  # the endpoint's own: transport, deadline, size cap
                exc.dossier_code = exc.dossier_code or dossier_code
                error = exc
                raise
            except requests.RequestException as exc:
                error = self._error(transport_verdict(exc), operation, dossier_code)
                raise error from exc
            except HttpStatus as exc:
                error = self._error(http_verdict(self.endpoint.table, exc.response), operation, dossier_code)
                raise error from exc
            except zeep.exceptions.Fault as exc:
                error = self._error(self._fault_verdict(exc), operation, dossier_code)
                raise error from exc
            except zeep.exceptions.TransportError as exc:
                error = self._error(self._unparsed_verdict(exc), operation, dossier_code)
                raise error from exc
            except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.XMLParseError, etree.XMLSyntaxError) as exc:
                # zeep's own parse errors name the element (a required one missing, one unexpected or repeated)
                content = getattr(exc, "content", None) or b""
                said = f"XML không đọc được (unreadable XML): {getattr(exc, 'message', None) or type(exc).__name__}"
                verdict = unreadable_verdict(content, None, said)
                error = self._error(verdict, operation, dossier_code)
                raise error from exc
            except (
                zeep.exceptions.DTDForbidden,
                zeep.exceptions.EntitiesForbidden,
                zeep.exceptions.ExternalReferenceForbidden,
            ) as exc:
                # A gateway's HTML page is well-formed enough to reach zeep's DTD check: it is unreadable, not hostile.
                doctype = str(exc.name) if isinstance(exc, zeep.exceptions.DTDForbidden) else ""  # "<!DOCTYPE html>"
                html = HTML_DOCTYPE.match(doctype) is not None
                resolution = Resolution.UNREADABLE if html else Resolution.FORBIDDEN
                error = self._error(Verdict(resolution, remote_message=str(exc)), operation, dossier_code)
                raise error from exc
            except (zeep.exceptions.ValidationError, TypeError) as exc:
                # Our own request does not fit the vendor's schema: a record or profile problem, not the network's.
                verdict = Verdict(Resolution.PERMANENT, remote_message=f"yêu cầu không khớp lược đồ WSDL: {exc}")
                error = self._error(verdict, operation, dossier_code)
                raise error from exc
            except zeep.exceptions.Error as exc:
                verdict = Verdict(Resolution.PERMANENT, remote_message=f"{type(exc).__name__}: {exc}")
                error = self._error(verdict, operation, dossier_code)
                raise error from exc
            finally:
                self.endpoint.outcome(error)
                self._record_exchange(role, error)

        return with_reauth(once, lambda: None)

    def _error(self, verdict: Verdict, operation: str, dossier_code: str | None) -> HubError:
        secrets = (self._password,)
        if verdict.remote_message:
            verdict = replace(verdict, remote_message=self.endpoint.bounds.cut(scrub(verdict.remote_message, secrets)))
        try:
            raise_for(verdict, system=self.system, operation=operation, dossier_code=dossier_code)
        except HubError as exc:
            return exc
        raise AssertionError("an error verdict always raises")  # pragma: no cover - raise_for raised above

    def _unparsed_verdict(self, exc: zeep.exceptions.TransportError) -> Verdict:
        """zeep could not parse an answer. A 200 was complete (the endpoint read all of it): a problem of this
        record's answer, parked. Any other status is the server's failure and goes by the HTTP table."""
        content = exc.content if isinstance(exc.content, bytes) else b""
        if exc.status_code == 200 or exc.status_code is None:
            return unreadable_verdict(content, exc.status_code, "XML không đọc được (unreadable XML)")
        verdict = unreadable_verdict(content, exc.status_code, "")
        if verdict.resolution is Resolution.FORBIDDEN:
            return verdict
        resolution = self.endpoint.table.http_status(exc.status_code)
        return Verdict(resolution, status_code=exc.status_code, remote_message="XML không đọc được (unreadable XML)")

    def _fault_verdict(self, fault: zeep.exceptions.Fault) -> Verdict:
        seen = SoapFault(
            code=str(fault.code) if fault.code else None,
            subcodes=tuple(_qname_local(c) for c in fault.subcodes or ()),
            reason=str(fault.message) if fault.message else None,
            detail_code=self._detail_code(fault.detail),
        )
        return fault_verdict(seen, self.vendor.faults, self.endpoint.table)

    def _detail_code(self, detail: Any) -> str | None:
        path = self.vendor.faults.detail_code
        if path is None or not etree.iselement(detail):  # zeep gives text when the Fault element is not found
            return None
        node = detail
        for step in path.split("."):
            found = next(
                (el for el in node.iter() if isinstance(el.tag, str) and etree.QName(el).localname == step), None
            )
            if found is None:
                return None
            node = found
        return (node.text or "").strip() or None

    def _record_exchange(self, role: str, error: HubError | None) -> None:
        pending = self.envelopes.pending()
        if pending is None or isinstance(self.endpoint.recorder, NullRecorder):
            return  # nothing keeps it: nothing to decode or scrub
        secrets = (self._password,)
        self.endpoint.recorder.record(
            Exchange(
                system=self.system,
                operation=pending.operation,
                endpoint=self.endpoint.base_url,
                started_at=pending.started_at,
                duration_ms=(time.perf_counter() - pending.start) * 1000,
                request=wire_text(pending.request, secrets) or "",
                response=wire_text(pending.response, secrets),
                status_code=pending.status_code,
                error=scrub(error.message, secrets) if error is not None else None,
                headers=pending.headers,
                personal=self.envelopes.personal,
                extra={"role": role},
            )
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """The shared session belongs to the process, not to one connector: nothing to release here."""


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _qname_local(code: Any) -> str:
    """A SOAP 1.2 subcode's local name (zeep gives QNames; text when it could not resolve the prefix)."""
    return str(getattr(code, "localname", None) or code)


def _local(element: Any) -> str:
    return str(etree.QName(element).localname)


def _at(reply: Any, path: str) -> Any:
    """The value at ``path`` in an answer; zeep unwraps a response whose wrapper has a single child, so the path's
    first step may already be gone, and an answer of one simple element is the bare value: the path names it."""
    if reply is not None and not isinstance(reply, Mapping | list):
        return reply
    first, _, rest = path.partition(".")
    if not isinstance(reply, Mapping) and not rest:
        return reply  # a single-valued answer (a result string) unwrapped whole
    if isinstance(reply, Mapping) and first not in reply:
        return get_path(reply, rest) if rest else reply
    return get_path(reply, path)
