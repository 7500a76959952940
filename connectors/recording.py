"""What went over the wire, for the integration log: each request and response, redacted.

Every connector call hands an :class:`Exchange` to a :class:`Recorder`. The hub passes an :class:`ExchangeLog` to
the connectors it builds and, after a call, :meth:`ExchangeLog.take` returns the exchanges the *calling thread*
made since its last take, ready to attach to the attempt it is recording. Personal data is masked and credentials
are removed (:mod:`foundation.redaction` decides which) before an exchange is built, so nothing downstream can leak
them.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from foundation.redaction import redact_data


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


def redact_json_text(text: str | bytes | None) -> str | None:
    """A JSON body redacted and re-serialised; a body that is not JSON is kept only as its size."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # nesting deeper than the parser's stack is not JSON we can show either
        return f"<{len(text)} bytes, not JSON>"
    return json.dumps(redact_data(data), ensure_ascii=False)
