"""What becomes of a message after a failed try: the hub's retry policy, as a pure decision.

The decision reads only what the error says the caller must do (:attr:`foundation.errors.HubError.action` and
``retry_after``), the try's number and the message's age. A retryable error is sent again after an exponential
backoff with jitter (or the remote's Retry-After) until the message is too old or has been tried too often; a
permanent error parks the message at once; a paused target holds it until an operator resumes; a message with
nothing to do is skipped; a busy dossier lock sends it back soon without counting a try. An exception the hub does
not know is a bug, not an outage: it is retried a few times, then parked with its class, never retried for a day.
The outcomes middleware (:mod:`hub.middleware.outcomes`) applies the decision to the store and the broker.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import timedelta

from dramatiq.rate_limits import RateLimitExceeded

from foundation.errors import Action, HubError
from foundation.settings import Settings
from hub.store.models import MessageState

BUSY_DELAY_MS = (50, 400)  # another worker holds the dossier: come back soon, do not count a try
UNEXPECTED = "unexpected"


def backoff_ms(attempt: int, *, min_ms: int, max_ms: int, rng: random.Random | None = None) -> int:
    """Exponential backoff with full jitter in its upper half: attempt 1 waits about ``min_ms``."""
    ceiling = min(max_ms, min_ms * 2 ** max(0, attempt - 1))
    return int(ceiling * (0.5 + (rng or random).random() * 0.5))


@dataclass(frozen=True)
class Decision:
    """What to do with a message whose try failed.

    ``state`` None means the failure was no try at all (the dossier was busy): the message goes back to the broker
    after ``delay_ms`` unchanged. ``error_message`` is what the try failed with; ``summary`` is what the message's
    row says (the same, unless the policy gave up).
    """

    state: MessageState | None
    error_class: str = ""
    error_message: str = ""
    summary: str = ""
    remote_message: str | None = None
    delay_ms: int | None = None
    gave_up: bool = False
    unexpected: bool = False

    @property
    def finished(self) -> bool:
        """Whether the message will not run again unless an operator replays it."""
        return self.state in (MessageState.PARKED, MessageState.SKIPPED)


@dataclass(frozen=True)
class RetryPolicy:
    """Turns a failed try into a :class:`Decision`; ``rng`` draws the backoff jitter (seeded in tests)."""

    max_attempts: int
    max_age: timedelta
    min_backoff_ms: int
    max_backoff_ms: int
    unexpected_max_attempts: int = 3  # an unknown exception is a bug: a few tries cover a race, more only hide it
    rng: random.Random | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, rng: random.Random | None = None) -> RetryPolicy:
        return cls(
            max_attempts=settings.retry_max_attempts,
            max_age=timedelta(seconds=settings.retry_max_age_seconds),
            min_backoff_ms=settings.retry_min_backoff_ms,
            max_backoff_ms=settings.retry_max_backoff_ms,
            unexpected_max_attempts=settings.unexpected_max_attempts,
            rng=rng,
        )

    def decide(self, exc: BaseException, *, attempt: int, age: timedelta) -> Decision:
        """The decision for try number ``attempt`` of a message first enqueued ``age`` ago, which raised ``exc``."""
        rng = self.rng or random
        if isinstance(exc, RateLimitExceeded):
            return Decision(state=None, delay_ms=rng.randint(*BUSY_DELAY_MS))
        known = isinstance(exc, HubError)
        # An unexpected exception's text may quote a record's values: the log keeps only its type.
        text = (str(exc) or type(exc).__name__) if known else _unexpected_text(exc)
        failed = Decision(
            state=MessageState.PARKED,
            error_class=exc.error_class if isinstance(exc, HubError) else UNEXPECTED,
            error_message=text,
            summary=text,
            remote_message=getattr(exc, "remote_message", None),
            unexpected=not known,
        )
        action = exc.action if isinstance(exc, HubError) else Action.RETRY
        if action is Action.SKIP:
            return replace(failed, state=MessageState.SKIPPED)
        if action is Action.HOLD:
            return replace(failed, state=MessageState.HELD)
        if action is Action.PARK:
            return failed
        limit = self.max_attempts if known else min(self.max_attempts, self.unexpected_max_attempts)
        if attempt >= limit or age > self.max_age:
            summary = f"Đã thử {attempt} lần trong {age} mà không thành công (gave up): {text}"
            return replace(failed, summary=summary, gave_up=True)
        if isinstance(exc, HubError) and exc.retry_after is not None:
            delay = int(exc.retry_after * 1000)
        else:
            delay = backoff_ms(attempt, min_ms=self.min_backoff_ms, max_ms=self.max_backoff_ms, rng=self.rng)
        return replace(failed, state=MessageState.RETRYING, delay_ms=delay)


def _unexpected_text(exc: BaseException) -> str:
    return f"Lỗi không lường trước / unexpected error: {type(exc).__module__}.{type(exc).__qualname__}"
