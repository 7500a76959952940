"""What went over the wire, for the integration log: each request as sent and each answer as received.

Every connector call hands an :class:`Exchange` to a :class:`Recorder`: the bodies verbatim, with only the
credentials taken out (a password, a session, a token, the WS-Security header), so that an administrator sees what the
remote really answered. Nothing is redacted here: the hub's recorder keeps the exchanges of the attempt being run,
and the attempt writer makes the viewers' copy once, at write time, with :func:`redact_body`
(:mod:`foundation.redaction` decides what is personal). A connector built without a recorder records nothing and
so redacts nothing. :class:`ExchangeLog` keeps each thread's exchanges for tests and tools.
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

from foundation.redaction import personal_keys, redact_data, redact_envelope, scrub

# Parsing a recorded answer for its redacted view must not fetch or expand anything the remote put in it.
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
# The answer's headers worth keeping beside its body.
KEPT_HEADERS = ("Content-Type", "Retry-After", "Content-Length")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer as they went over the wire, credentials removed; or the failure that replaced
    the answer."""

    system: str
    operation: str
    endpoint: str
    started_at: datetime
    duration_ms: float
    request: str
    response: str | None = None
    status_code: int | None = None
    error: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    personal: frozenset[str] = frozenset()  # a vendor's own personal element names, beside the one list
    extra: Mapping[str, Any] = field(default_factory=dict)


class Recorder(Protocol):
    """Receives every exchange a connector makes."""

    def record(self, exchange: Exchange) -> None: ...


class NullRecorder:
    """Records nothing (a connector built without a recorder)."""

    def record(self, exchange: Exchange) -> None:
        return None


class ExchangeLog:
    """Keeps each thread's recent exchanges so the thread that made a call can look at them."""

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


def wire_text(body: bytes | str | None, secrets: Iterable[str]) -> str | None:
    """A body as recorded: decoded (UTF-8, undecodable bytes replaced) with every literal secret removed."""
    if body is None:
        return None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return scrub(text, secrets)


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in KEPT_HEADERS if name in headers}


def redact_body(text: str | None, *, personal: frozenset[str] = frozenset()) -> str | None:
    """The viewers' copy of a recorded body: an XML or JSON document with personal data masked and credential
    elements removed; anything else (or a body cut at the cap) only as its size."""
    if text is None:
        return None
    if text.lstrip().startswith("<"):
        try:
            root = etree.fromstring(text.encode("utf-8"), _SAFE_XML)
        except (etree.XMLSyntaxError, ValueError):
            return f"<{len(text)} characters, not readable XML>"
        return redact_envelope(root, personal=personal_keys() | personal)
    return redact_json_text(text)


def redact_json_text(text: str | bytes | None) -> str | None:
    """A JSON body redacted and re-serialised; a body that is not JSON is kept only as its size."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # nesting deeper than the parser's stack is not JSON we can show either
        return f"<{len(text)} bytes, not JSON>"
    return json.dumps(redact_data(data), ensure_ascii=False)
