"""What one try at a message sent and received, collected while it runs and written in batches.

Connectors and the delivery code put the request and response of the current try into :func:`current`; the
integration-log middleware opens the record before the actor runs and hands it to :class:`AttemptWriter` after.
Attempt rows are detail, so they are buffered; the message's state itself is always written in the same
transaction as the work it describes.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from foundation.logs import get_logger
from hub.store.db import Database
from hub.store.models import Attempt

log = get_logger(__name__)


@dataclass
class AttemptRecord:
    """One try at a message, filled in while it runs."""

    message_id: int
    number: int
    started_at: datetime
    worker: str
    outcome: str = "running"
    finished_at: datetime | None = None
    duration_ms: float | None = None
    error_class: str | None = None
    error_message: str | None = None
    remote_message: str | None = None
    retry_delay_ms: int | None = None
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    request_redacted: dict[str, Any] | None = None
    response_redacted: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def exchange(
        self,
        *,
        request: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        request_redacted: dict[str, Any] | None = None,
        response_redacted: dict[str, Any] | None = None,
    ) -> None:
        """Keep what was sent and answered; the redacted views are what viewers without personal-data rights see."""
        if request is not None:
            self.request, self.request_redacted = request, request_redacted
        if response is not None:
            self.response, self.response_redacted = response, response_redacted

    def row(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "number": self.number,
            "outcome": self.outcome,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
            "worker": self.worker,
            "error_class": self.error_class,
            "error_message": self.error_message,
            "remote_message": self.remote_message,
            "retry_delay_ms": self.retry_delay_ms,
            "request": self.request,
            "response": self.response,
            "request_redacted": self.request_redacted,
            "response_redacted": self.response_redacted,
        }


_PAYLOADS = ("request", "response", "request_redacted", "response_redacted")


def _unstorable(row: dict[str, Any]) -> str:
    note = "(payload could not be stored / không lưu được nội dung gửi nhận)"
    return f"{row['error_message']} {note}" if row.get("error_message") else note


_current: contextvars.ContextVar[AttemptRecord | None] = contextvars.ContextVar("attempt", default=None)


def current() -> AttemptRecord | None:
    """The try being run on this thread, if any."""
    return _current.get()


def begin(record: AttemptRecord) -> contextvars.Token[AttemptRecord | None]:
    return _current.set(record)


def end(token: contextvars.Token[AttemptRecord | None]) -> None:
    _current.reset(token)


class AttemptWriter:
    """Writes attempt rows in batches from a background thread: at most ``batch`` rows or ``interval`` seconds late."""

    def __init__(self, db: Database, *, batch: int = 200, interval: float = 0.25) -> None:
        self.db = db
        self.batch = batch
        self.interval = interval
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending = 0  # rows handed over and not yet written (or given up on)
        self._pending_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="attempt-writer", daemon=True)
        self._thread.start()

    def put(self, record: AttemptRecord) -> None:
        with self._pending_lock:
            self._pending += 1
        self._queue.put(record.row())

    @property
    def pending(self) -> int:
        """Rows handed over that are not in the database yet: 0 once everything put so far is written."""
        with self._pending_lock:
            return self._pending

    def close(self) -> None:
        """Flush what is buffered and stop."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            rows: list[dict[str, Any]] = []
            try:
                item = self._queue.get(timeout=self.interval)
            except queue.Empty:
                continue
            while True:
                if item is None:
                    stopping = True
                    break
                rows.append(item)
                if len(rows) >= self.batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            self._flush(rows)
            with self._pending_lock:
                self._pending -= len(rows)

    def _flush(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self.db.session() as session:
                session.execute(insert(Attempt), rows)
        except Exception:  # one bad row must not lose the batch: write them one by one, payloads dropped if need be
            log.warning("attempt_batch_failed", count=len(rows), exc_info=True)
            for row in rows:
                self._flush_one(row)

    def _flush_one(self, row: dict[str, Any]) -> None:
        for candidate in (row, {**row, **dict.fromkeys(_PAYLOADS), "error_message": _unstorable(row)}):
            try:
                with self.db.session() as session:
                    session.execute(insert(Attempt), [candidate])
                return
            except Exception:  # losing detail rows must never stop the worker; the message state is durable
                log.warning("attempt_row_failed", message_id=row.get("message_id"), exc_info=True)
        log.error("attempt_row_lost", message_id=row.get("message_id"), number=row.get("number"))
