"""Turn a failed try into the message's next state and schedule its retry, as :mod:`hub.policy` decides.

What a failure means is decided by the policy (retry with backoff, park, hold, skip, give up); this applies the
decision: the message's state in the store (ending this worker's claim, :mod:`hub.claims`), the retry handed back to
the broker, the try's outcome for its attempt row. Parked messages live in the integration log, not in the broker's
dead-letter set, which Redis expires after a week. Dramatiq's own ``Retries`` is not installed: this replaces it.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from foundation import logs
from foundation.clock import utcnow
from foundation.redaction import hiding, mask_text, personal_strings
from hub import attempts, claims, context
from hub.errors import ClaimedElsewhere
from hub.middleware.attempt_log import NOT_A_TRY
from hub.middleware.stamps import ENQUEUED, enqueued_at
from hub.policy import RetryPolicy
from hub.store.db import DatabaseUnavailable
from hub.store.models import Message, MessageState

log = logs.get_logger(__name__)

CLAIMED_DELAY_MS = (500, 2000)  # another worker runs this very message: come back when it has likely finished
STATE_PATIENCE = 60.0  # seconds a failure's outcome waits for a database that is away before giving up
STATE_RETRY_SECONDS = (0.1, 5.0)  # the wait between tries, doubling


class Outcomes(Middleware):
    """Apply the retry policy's decision on a failed try."""

    @property
    def actor_options(self) -> set[str]:
        return {"throws"}  # error types the worker logs without a traceback: they are expected outcomes

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        record = attempts.current()
        if exception is None or record is None:
            return
        self._handle_failure(broker, message, record, exception)

    def _handle_failure(
        self, broker: dramatiq.Broker, message: MessageProxy, record: attempts.AttemptRecord, exc: BaseException
    ) -> None:
        ctx = context.current()
        message_id = record.message_id
        if isinstance(exc, ClaimedElsewhere):
            record.outcome = NOT_A_TRY
            broker.enqueue(message.copy(), delay=random.randint(*CLAIMED_DELAY_MS))  # noqa: S311 - jitter, not secrecy
            return
        age = utcnow() - enqueued_at(message)
        decision = RetryPolicy.from_settings(ctx.settings).decide(exc, attempt=record.number, age=age)
        if decision.state is None:  # not a try: the dossier was busy
            record.outcome = NOT_A_TRY
            claims.release(ctx.db, [message_id])  # the copy sent back claims it again when the lock is free
            broker.enqueue(message.copy(), delay=decision.delay_ms)
            return
        record.error_class, record.error_message = decision.error_class, decision.error_message
        record.remote_message = decision.remote_message
        record.outcome = decision.state.value  # from here on the try has its row, whatever happens to the state
        values: dict[str, Any] = {
            "state": decision.state.value,
            "error_class": decision.error_class,
            "error_message": decision.summary,
            "remote_message": decision.remote_message,
            "attempts": Message.attempts + 1,
            "updated_at": utcnow(),
        }
        if decision.finished:
            values["finished_at"] = utcnow()
        # the tries' records are in scope: a batch's refusal may name any of their applicants, not only this one's
        with hiding(personal_strings(record.request)):
            if decision.gave_up:
                log.warning(
                    "message_gave_up",
                    attempts=record.number,
                    error_class=decision.error_class,
                    error=mask_text(decision.error_message),
                )
            elif decision.state is MessageState.PARKED:
                log.warning(
                    "message_parked",
                    error_class=decision.error_class,
                    error=mask_text(decision.error_message),
                    remote_message=mask_text(decision.remote_message) if decision.remote_message else None,
                )
            if decision.unexpected:
                log.error("message_failed_unexpectedly", exc_info=exc)
        if decision.state is MessageState.RETRYING:
            assert decision.delay_ms is not None  # a retry always has its delay
            record.retry_delay_ms = decision.delay_ms
            values["next_attempt_at"] = utcnow() + timedelta(milliseconds=decision.delay_ms)
            retry = message.copy()
            retry.options["hub_attempt"] = record.number
            retry.options.setdefault(ENQUEUED, message.options.get(ENQUEUED))
            self._set_state(ctx, message_id, values)
            broker.enqueue(retry, delay=decision.delay_ms)
        else:
            self._set_state(ctx, message_id, values)

    @staticmethod
    def _set_state(ctx: context.HubContext, message_id: int, values: dict[str, Any]) -> None:
        """End this thread's claim with the failure's outcome; a message it never claimed (the claim itself failed,
        or the lease was lost) keeps the state its holder gives it.

        A database that is away (a restart, a failover: the very failure being recorded, often) is waited for, up to
        :data:`STATE_PATIENCE` seconds, so the retry is scheduled as decided rather than left to the lease's end and
        the reconciler. The claim is still renewed meanwhile (the lease middleware drops it only after this), and
        writing the same outcome twice changes nothing (only a running message this thread holds is ended)."""
        delay, deadline, waiting = STATE_RETRY_SECONDS[0], time.monotonic() + STATE_PATIENCE, False
        while True:
            try:
                with ctx.db.session() as session:
                    claims.end_claim(session, message_id, values)
                return
            except DatabaseUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                if not waiting:
                    log.warning("message_state_waiting_for_database", state=values["state"])
                    waiting = True
                time.sleep(delay)
                delay = min(delay * 2, STATE_RETRY_SECONDS[1])
