"""SOAP transport shared by every SOAP system kind (zeep): the hardened parser, the WSDL cache, the envelope recorder
and the guarded transport that classifies HTTP answers carrying no fault.

The WSDL is parsed once per process (:func:`wsdl_document`) and every connector of the process shares one
``requests.Session`` whose pool matches the worker's threads. Answers are parsed with DTDs, entities and external
references forbidden. :class:`EnvelopeRecorder` (a zeep plugin) keeps each request and response envelope, with the
security header and a profile's custom headers (``connectors.soap_headers``) removed, for the integration log. A
kind's connector (``systems/motcua/connector.py``) builds on these.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from lxml import etree
from zeep.wsdl import Document

from connectors.http import Endpoint
from connectors.recording import kept_headers

_DOCUMENTS: dict[tuple[str, bool], Document] = {}
SAVED_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)
HTML_DOCTYPE = re.compile(r"<!doctype\s+html\b", re.IGNORECASE)
_DOCUMENTS_LOCK = threading.Lock()


def zeep_settings(*, strict: bool = True) -> zeep.Settings:
    """Parsing that refuses DTDs, entities and external references, and never builds a huge tree."""
    return zeep.Settings(
        strict=strict,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


def wsdl_document(location: str, session: requests.Session, *, strict: bool = True, timeout: float = 30.0) -> Document:
    """The parsed WSDL at ``location`` (URL or path), parsed once per process: parsing is the expensive part."""
    key = (location, strict)
    with _DOCUMENTS_LOCK:
        document = _DOCUMENTS.get(key)
        if document is None:
            loader = zeep.Transport(session=session, timeout=timeout, operation_timeout=timeout)  # type: ignore[no-untyped-call]
            # The contract itself imports its schema (xs:import schemaLocation), so loading the configured WSDL may
            # follow references; answers are parsed with the client's settings, which forbid them.
            settings = zeep_settings(strict=strict)
            settings.forbid_external = False
            document = Document(location, loader, settings=settings)  # type: ignore[arg-type]  # zeep's hint is wrong: it takes an instance
            _DOCUMENTS[key] = document
        return document


def forget_wsdl_documents() -> None:
    """Drop the parsed WSDLs (a vendor published a new contract; tests)."""
    with _DOCUMENTS_LOCK:
        _DOCUMENTS.clear()


# ── recording ────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class _Pending:
    operation: str
    started_at: datetime
    start: float
    request: bytes = b""
    response: bytes | None = None
    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


# The WS-Security header (username, password or digest): cut from a recorded request before anything keeps it.
_SECURITY = re.compile(rb"<(?:[\w.-]+:)?Security\b.*?</(?:[\w.-]+:)?Security>", re.DOTALL)


class EnvelopeRecorder:
    """Keeps this thread's current request and response envelopes, as they went over the wire, until the call ends.

    Nothing is parsed or redacted here (the attempt writer makes the viewers' copy, only for what is recorded).
    """

    def __init__(self, personal: frozenset[str] = frozenset(), cut: re.Pattern[bytes] | None = None) -> None:
        self.personal = personal  # a vendor's own names, beside the one list (foundation.redaction)
        self.cut = cut  # a profile's custom headers (connectors.soap_headers): credentials, cut like WS-Security
        self._local = threading.local()

    def kept(self, message: bytes) -> bytes:
        """A request envelope as it may be kept: without the WS-Security header or the profile's custom headers."""
        message = _SECURITY.sub(b"", message)
        return self.cut.sub(b"", message) if self.cut is not None else message

    def begin(self, operation: str, started_at: datetime) -> None:
        self._local.pending = _Pending(operation, started_at, time.perf_counter())

    def pending(self) -> _Pending | None:
        return getattr(self._local, "pending", None)


# ── transport: guard, status, and the bounds zeep would otherwise leave open ─────────────────────────────────


class HttpStatus(Exception):
    """An HTTP answer that is not 200 and carries no SOAP fault; classified by status at the boundary."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class GuardedTransport(zeep.Transport):
    def __init__(self, endpoint: Endpoint, recorder: EnvelopeRecorder) -> None:
        super().__init__(session=endpoint.session, timeout=endpoint.timeouts.read, operation_timeout=None)  # type: ignore[no-untyped-call]
        self.endpoint = endpoint
        self.recorder = recorder

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        self.endpoint.guard()
        pending = self.recorder.pending()
        operation = pending.operation if pending is not None else "post"
        if pending is not None:
            pending.request = self.recorder.kept(message)  # the credentials never reach the log
        response = self.endpoint.fetch(operation, "POST", address, data=message, headers=headers)
        if pending is not None:
            pending.status_code = response.status_code
            pending.response = response.content
            pending.headers = kept_headers(response.headers)
        if response.status_code != 200 and b"Fault" not in response.content[:4096]:
            raise HttpStatus(response)
        return response
