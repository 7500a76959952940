"""Dramatiq middleware that records every message's life in the integration log and decides what a failure means.

The decision follows the error tree (:mod:`hub.errors`): a retryable error is sent again after an exponential
backoff with jitter (or the remote's Retry-After) until the message is too old or has been tried too often; a
permanent error parks the message at once with its full context; a paused target holds it until an operator
resumes; a busy dossier lock sends it back after a short delay without counting a try. Parked messages live in
the integration log, not in the broker's dead-letter set, which Redis expires after a week.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware
from dramatiq.rate_limits import RateLimitExceeded
from sqlalchemy import update

from foundation import logs
from foundation.clock import utcnow
from foundation.errors import Action, HubError
from hub import attempts, context
from hub.store.models import Message, MessageState

log = logs.get_logger(__name__)

BUSY_DELAY_MS = (50, 400)  # another worker holds the dossier: come back soon, do not count a try
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


def backoff_ms(attempt: int, *, min_ms: int, max_ms: int, rng: random.Random | None = None) -> int:
    """Exponential backoff with full jitter in its upper half: attempt 1 waits about ``min_ms``."""
    ceiling = min(max_ms, min_ms * 2 ** max(0, attempt - 1))
    return int(ceiling * (0.5 + (rng or random).random() * 0.5))


class IntegrationLog(Middleware):
    """Record attempts and turn each outcome into the message's next state."""

    @property
    def actor_options(self) -> set[str]:
        return {"throws"}  # error types the worker logs without a traceback: they are expected outcomes

    def __init__(self) -> None:
        self._writer: attempts.AttemptWriter | None = None
        self._writer_lock = threading.Lock()
        self._tokens = threading.local()
        self._running = 0  # messages between before_ and after_process_message: their attempt rows are still to come

    @property
    def pending_attempts(self) -> int:
        """Attempt rows this process has not written yet (tests wait for 0 before reading the log)."""
        with self._writer_lock:
            return self._running + (self._writer.pending if self._writer is not None else 0)

    def _count_running(self, step: int) -> None:
        with self._writer_lock:
            self._running += step

    def _attempt_writer(self) -> attempts.AttemptWriter:
        with self._writer_lock:
            ctx = context.current()
            if self._writer is None or self._writer.db is not ctx.db:
                if self._writer is not None:
                    self._writer.close()
                self._writer = attempts.AttemptWriter(ctx.db)
            return self._writer

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        message_id = int(message.args[0])
        record = attempts.AttemptRecord(
            message_id=message_id,
            number=int(message.options.get("hub_attempt", 0)) + 1,
            started_at=utcnow(),
            worker=f"{WORKER_ID}:{threading.current_thread().name}",
        )
        self._count_running(+1)
        self._tokens.value = (attempts.begin(record), time.perf_counter(), record)
        logs.bind(message_id=message_id, actor=message.actor_name)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        if getattr(self._tokens, "value", None) is not None:
            self._tokens.value = None
            self._count_running(-1)
        self._finish_context()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        token, started, record = self._tokens.value
        try:
            record.finished_at = utcnow()
            record.duration_ms = (time.perf_counter() - started) * 1000
            if exception is None:
                if record.outcome == "noop":  # a duplicate broker message for a finished message: nothing happened
                    return
                if record.outcome == "running":
                    record.outcome = MessageState.SUCCEEDED.value
                self._attempt_writer().put(record)
                return
            self._handle_failure(broker, message, record, exception)
        finally:
            attempts.end(token)
            self._tokens.value = None
            self._count_running(-1)
            self._finish_context()

    def _finish_context(self) -> None:
        logs.unbind("message_id", "actor", "dossier_code", "unit")

    def _handle_failure(
        self, broker: dramatiq.Broker, message: MessageProxy, record: attempts.AttemptRecord, exc: BaseException
    ) -> None:
        ctx = context.current()
        settings = ctx.settings
        message_id = record.message_id
        if isinstance(exc, RateLimitExceeded):
            broker.enqueue(message.copy(), delay=random.randint(*BUSY_DELAY_MS))  # noqa: S311 - jitter, not secrecy
            return
        action = exc.action if isinstance(exc, HubError) else Action.RETRY
        error_class = exc.error_class if isinstance(exc, HubError) else "unexpected"
        text = str(exc) or type(exc).__name__
        remote = getattr(exc, "remote_message", None)
        record.error_class, record.error_message, record.remote_message = error_class, text, remote
        values: dict[str, Any] = {
            "error_class": error_class,
            "error_message": text,
            "remote_message": remote,
            "attempts": Message.attempts + 1,
            "updated_at": utcnow(),
        }
        if action is Action.SKIP:
            record.outcome = MessageState.SKIPPED.value
            values |= {"state": MessageState.SKIPPED.value, "finished_at": utcnow()}
        elif action is Action.HOLD:
            record.outcome = MessageState.HELD.value
            values |= {"state": MessageState.HELD.value}
        elif action is Action.PARK:
            record.outcome = MessageState.PARKED.value
            values |= {"state": MessageState.PARKED.value, "finished_at": utcnow()}
            log.warning("message_parked", error_class=error_class, error=text, remote_message=remote)
        else:
            attempt = record.number
            age = utcnow() - _enqueued_at(message)
            if attempt >= settings.retry_max_attempts or age > timedelta(seconds=settings.retry_max_age_seconds):
                record.outcome = MessageState.PARKED.value
                values |= {
                    "state": MessageState.PARKED.value,
                    "finished_at": utcnow(),
                    "error_message": f"Đã thử {attempt} lần trong {age} mà không thành công (gave up): {text}",
                }
                log.warning("message_gave_up", attempts=attempt, error_class=error_class, error=text)
            else:
                if isinstance(exc, HubError) and exc.retry_after is not None:
                    delay = int(exc.retry_after * 1000)
                else:
                    delay = backoff_ms(
                        attempt, min_ms=settings.retry_min_backoff_ms, max_ms=settings.retry_max_backoff_ms
                    )
                record.outcome = MessageState.RETRYING.value
                record.retry_delay_ms = delay
                values |= {
                    "state": MessageState.RETRYING.value,
                    "next_attempt_at": utcnow() + timedelta(milliseconds=delay),
                }
                if not isinstance(exc, HubError):
                    log.error("message_failed_unexpectedly", exc_info=exc)
                retry = message.copy()
                retry.options["hub_attempt"] = attempt
                retry.options.setdefault("hub_enqueued_ms", message.options.get("hub_enqueued_ms"))
                self._set_state(ctx, message_id, values)
                broker.enqueue(retry, delay=delay)
                self._attempt_writer().put(record)
                return
        self._set_state(ctx, message_id, values)
        self._attempt_writer().put(record)

    @staticmethod
    def _set_state(ctx: context.HubContext, message_id: int, values: dict[str, Any]) -> None:
        with ctx.db.session() as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        message.options.setdefault("hub_enqueued_ms", int(time.time() * 1000))


def _enqueued_at(message: MessageProxy) -> Any:
    from datetime import UTC, datetime

    millis = message.options.get("hub_enqueued_ms") or message.message_timestamp
    return datetime.fromtimestamp(int(millis) / 1000, UTC)
