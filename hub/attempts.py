"""What one try at a message sent and received, collected while it runs and written in batches.

The delivery code puts what it means to send into :func:`current`, and the connectors hand every exchange they make
to :class:`AttemptRecorder`, which adds it to the try being run: the request as sent and the answer as received
(up to ``cap`` characters each). The integration-log middleware opens the record before the actor runs and hands it
to :class:`AttemptWriter` after; the writer's thread makes the viewers' redacted copy then, once. Attempt rows are
detail, so they are buffered; the message's state itself is always written in the same transaction as the work it
describes.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from connectors.recording import Exchange, redact_body
from foundation.logs import get_logger
from foundation.redaction import redact_data
from hub.store.db import Database, DatabaseUnavailable
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
    exchanges: list[Exchange] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def exchange(self, *, request: dict[str, Any] | None = None, response: dict[str, Any] | None = None) -> None:
        """Keep what the hub meant to send and what it made of the answers (the wire itself comes from
        :class:`AttemptRecorder`)."""
        if request is not None:
            self.request = request
        if response is not None:
            self.response = response

    def row(self, cap: int) -> dict[str, Any]:
        """The attempt's row, with the viewers' redacted copy made here, once (in the writer's thread)."""
        request, response = self.request, self.response
        request_redacted = redact_data(request) if request is not None else None
        response_redacted = redact_data(response) if response is not None else None
        if self.exchanges:
            sent = [_sent(e, cap) for e in self.exchanges]
            answered = [_answered(e, cap) for e in self.exchanges]
            request = {**(request or {}), "wire": sent}
            response = {**(response or {}), "wire": answered}
            request_redacted = {
                **(request_redacted or {}),
                "wire": [_hidden(w, e) for w, e in zip(sent, self.exchanges, strict=True)],
            }
            response_redacted = {
                **(response_redacted or {}),
                "wire": [_hidden(w, e) for w, e in zip(answered, self.exchanges, strict=True)],
            }
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
            "request": request,
            "response": response,
            "request_redacted": request_redacted,
            "response_redacted": response_redacted,
        }


def _capped(text: str | None, cap: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= cap:
        return text, False
    return text[:cap], True


def _sent(exchange: Exchange, cap: int) -> dict[str, Any]:
    body, cut = _capped(exchange.request, cap)
    return {
        "system": exchange.system,
        "operation": exchange.operation,
        "endpoint": exchange.endpoint,
        "at": exchange.started_at.isoformat(),
        "body": body,
        "truncated": cut,
    }


def _answered(exchange: Exchange, cap: int) -> dict[str, Any]:
    body, cut = _capped(exchange.response, cap)
    return {
        "operation": exchange.operation,
        "status_code": exchange.status_code,
        "headers": dict(exchange.headers),
        "duration_ms": round(exchange.duration_ms, 1),
        "body": body,
        "truncated": cut,
        "error": exchange.error,
    }


def _hidden(wire: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    """A wire entry with its body redacted (a body cut at the cap is shown only as its size)."""
    body = wire["body"]
    if wire["truncated"]:
        shown: str | None = f"<{len(body)}+ characters, cut at the cap: not shown>"
    else:
        shown = redact_body(body, personal=exchange.personal)
    return {**wire, "body": shown}


class AttemptRecorder:
    """The connectors' recorder in a worker: adds each exchange to the try being run on the calling thread.

    A call made outside any try (the scheduler's health checks, a CLI command) is not kept.
    """

    def record(self, exchange: Exchange) -> None:
        attempt = current()
        if attempt is not None:
            attempt.exchanges.append(exchange)


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


# While the database is unreachable (a restart, a failover) the writer keeps its rows and tries again, waiting
# from the first to the last figure, doubling; once asked to close it gives up after CLOSE_PATIENCE seconds.
RETRY_SECONDS = (0.1, 5.0)
CLOSE_PATIENCE = 5.0


class AttemptWriter:
    """Writes attempt rows in batches from a background thread: at most ``batch`` rows or ``interval`` seconds late.
    A batch gathers rows for up to ``interval`` after its first (one transaction for a busy worker's tries, not one
    each), unless someone is waiting in :meth:`flush`.

    :meth:`flush` waits until every row put so far has been handled (written, or given up on after logging), for
    readers that must see the rows: tests, and anything that reports right after the work finished. A database that
    is unreachable loses no row: the batch is kept and written when it is back (:data:`RETRY_SECONDS`).
    """

    def __init__(self, db: Database, *, cap: int = 65536, batch: int = 200, interval: float = 0.25) -> None:
        self.db = db
        self.cap = cap
        self.batch = batch
        self.interval = interval
        self._queue: queue.Queue[AttemptRecord | None] = queue.Queue()
        self._handled = threading.Condition()
        self._put_count = 0
        self._handled_count = 0
        self._closing = threading.Event()
        self._waiting = threading.Event()  # rows are held for a database that is away (logged once per outage)
        self._flushing = 0  # callers waiting in flush(): the batch being gathered is written at once
        self._thread = threading.Thread(target=self._run, name="attempt-writer", daemon=True)
        self._thread.start()

    def put(self, record: AttemptRecord) -> None:
        """Queue a finished try; its row (and redacted copy) is made in the writer's thread."""
        with self._handled:
            self._put_count += 1
        self._queue.put(record)

    @property
    def pending(self) -> int:
        """Rows handed over and not yet written (or given up on)."""
        with self._handled:
            return self._put_count - self._handled_count

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Return once every row put before this call is handled; False if ``timeout`` seconds ran out first."""
        with self._handled:
            target = self._put_count
            self._flushing += 1
            try:
                return self._handled.wait_for(lambda: self._handled_count >= target, timeout)
            finally:
                self._flushing -= 1

    def close(self) -> None:
        """Flush what is buffered and stop."""
        self._closing.set()
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
            gathered_until = time.monotonic() + self.interval
            while True:
                if item is None:
                    stopping = True
                    break
                rows.append(self._row(item))
                if len(rows) >= self.batch:
                    break
                wait = gathered_until - time.monotonic()
                try:
                    item = self._queue.get_nowait() if wait <= 0 or self._flushing else self._queue.get(timeout=wait)
                except queue.Empty:
                    break
            try:
                self._flush(rows)
            finally:
                with self._handled:
                    self._handled_count += len(rows)
                    self._handled.notify_all()

    def _row(self, record: AttemptRecord) -> dict[str, Any]:
        try:
            return record.row(self.cap)
        except Exception:  # a body the redaction cannot handle must not lose the try: keep it without payloads
            log.warning("attempt_row_unredactable", message_id=record.message_id, exc_info=True)
            row = AttemptRecord.row(replace(record, request=None, response=None, exchanges=[]), self.cap)
            return {**row, "error_message": _unstorable(row)}

    def _flush(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            self._write(rows)
        except DatabaseUnavailable:
            log.error("attempt_row_lost", count=len(rows), reason="database unreachable at shutdown")
        except Exception:  # one bad row must not lose the batch: write them one by one, payloads dropped if need be
            log.warning("attempt_batch_failed", count=len(rows), exc_info=True)
            for row in rows:
                self._flush_one(row)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows``, trying again for as long as the database is unreachable (until closing, then for
        :data:`CLOSE_PATIENCE` seconds); any other error is the caller's."""
        delay, closing_since = RETRY_SECONDS[0], None
        while True:
            try:
                with self.db.session() as session:
                    session.execute(insert(Attempt), rows)
                self._waiting.clear()
                return
            except DatabaseUnavailable:
                if self._closing.is_set():
                    closing_since = closing_since or time.monotonic()
                    if time.monotonic() - closing_since > CLOSE_PATIENCE:
                        raise
                if not self._waiting.is_set():
                    log.warning("attempt_rows_waiting_for_database", count=len(rows))
                    self._waiting.set()
                if closing_since is None:
                    self._closing.wait(delay)  # a close() cuts the wait short
                else:
                    time.sleep(RETRY_SECONDS[0])
                delay = min(delay * 2, RETRY_SECONDS[1])

    def _flush_one(self, row: dict[str, Any]) -> None:
        for candidate in (row, {**row, **dict.fromkeys(_PAYLOADS), "error_message": _unstorable(row)}):
            try:
                self._write([candidate])
                return
            except DatabaseUnavailable:
                break
            except Exception:  # losing detail rows must never stop the worker; the message state is durable
                log.warning("attempt_row_failed", message_id=row.get("message_id"), exc_info=True)
        log.error("attempt_row_lost", message_id=row.get("message_id"), number=row.get("number"))
