"""What went over the wire, for the integration log: each request and response, redacted.

Every connector call hands an :class:`Exchange` to a :class:`Recorder`. The hub passes an :class:`ExchangeLog` to
the connectors it builds and, after a call, :meth:`ExchangeLog.take` returns the exchanges the *calling thread*
made since its last take, ready to attach to the attempt it is recording. Personal data (the applicant's name,
ID number, contacts) is masked and credentials (passwords, sessions, tokens, the WS-Security header) are removed
before an exchange is built, so nothing downstream can leak them.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lxml import etree

from mappings.canonical import REDACTED

# Field names that hold personal data, in the one-stop-shop's default shape and in the portal's records. Elements
# named here are masked with everything inside them (ChuHoSo is the applicant as a whole in the SOAP contract).
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "ChuHoSo",
        "HoTen",
        "SoGiayTo",
        "SoGiayToChuHoSo",
        "MaDoiTuong",
        "Email",
        "Fax",
        "SoDienThoai",
        "DiaChi",
        "ThongTinKhac",
        "DinhDanhCHS",
        "SoDinhDanh",
    }
)
# Field names that hold credentials: removed wherever they appear.
SECRET_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "Password",
        "session",
        "access_token",
        "refresh_token",
        "client_secret",
        "token",
        "Authorization",
        "Nonce",
        "Security",
        "UsernameToken",
    }
)
REMOVED = "[removed]"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response (or the failure that replaced it), redacted."""

    system: str
    operation: str
    endpoint: str
    started_at: datetime
    duration_ms: float
    request: str
    response: str | None = None
    status_code: int | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Recorder(Protocol):
    """Receives every exchange a connector makes."""

    def record(self, exchange: Exchange) -> None: ...


class NullRecorder:
    """Records nothing (a connector built without a recorder)."""

    def record(self, exchange: Exchange) -> None:
        return None


class ExchangeLog:
    """Keeps each thread's recent exchanges so the thread that made a call can attach them to its attempt."""

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self._local = threading.local()

    def _mine(self) -> deque[Exchange]:
        pending: deque[Exchange] | None = getattr(self._local, "pending", None)
        if pending is None:
            pending = deque(maxlen=self.keep)
            self._local.pending = pending
        return pending

    def record(self, exchange: Exchange) -> None:
        self._mine().append(exchange)

    def take(self) -> list[Exchange]:
        """This thread's exchanges since its last take, oldest first; the log forgets them."""
        pending = self._mine()
        out = list(pending)
        pending.clear()
        return out

    def last(self) -> Exchange | None:
        """This thread's most recent exchange, without forgetting it."""
        pending = self._mine()
        return pending[-1] if pending else None


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every literal secret value replaced (a password echoed in an error page, a token in a URL)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REMOVED)
    return text


def redact_data(data: Any, *, personal: frozenset[str] = PERSONAL_KEYS, secret: frozenset[str] = SECRET_KEYS) -> Any:
    """A copy of decoded JSON (or a serialised SOAP record) with personal values masked and credentials removed."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in secret:
                out[key] = REMOVED
            elif key in personal and value not in (None, ""):
                out[key] = REDACTED
            else:
                out[key] = redact_data(value, personal=personal, secret=secret)
        return out
    if isinstance(data, list | tuple):
        return [redact_data(v, personal=personal, secret=secret) for v in data]
    return data


def redact_json_text(
    text: str | bytes | None, *, personal: frozenset[str] = PERSONAL_KEYS, secret: frozenset[str] = SECRET_KEYS
) -> str | None:
    """A JSON body redacted and re-serialised; a body that is not JSON is kept only as its size."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return f"<{len(text)} bytes, not JSON>"
    return json.dumps(redact_data(data, personal=personal, secret=secret), ensure_ascii=False)


def redact_envelope(
    envelope: etree._Element, *, personal: frozenset[str] = PERSONAL_KEYS, secret: frozenset[str] = SECRET_KEYS
) -> str:
    """A SOAP envelope as text with personal elements masked and credential elements (wsse:Security) removed."""
    copy = etree.fromstring(etree.tostring(envelope))
    for element in list(copy.iter()):
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in secret:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        elif name in personal:
            for child in list(element):
                element.remove(child)
            element.text = REDACTED
    return str(etree.tostring(copy, encoding="unicode"))
