"""The retry policy as one table: each failure, at a given try and age, and what becomes of the message."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import pytest
from dramatiq.rate_limits import RateLimitExceeded

from connectors.errors import AuthenticationFailed, RateLimited, RemoteRejected, RemoteTimeout, RemoteUnavailable
from foundation.errors import ConfigurationError, HubError
from foundation.settings import Settings
from hub.errors import DeliveryPaused, SkipMessage
from hub.policy import BUSY_DELAY_MS, RetryPolicy, backoff_ms
from hub.store.models import MessageState
from mappings.errors import MappingMissing

MAX_ATTEMPTS = 6
UNEXPECTED_MAX_ATTEMPTS = 3
MAX_AGE = timedelta(hours=1)
MIN_MS, MAX_MS = 1000, 8000
FRESH = timedelta(seconds=5)

RETRYING, PARKED, HELD, SKIPPED = (
    MessageState.RETRYING,
    MessageState.PARKED,
    MessageState.HELD,
    MessageState.SKIPPED,
)


@dataclass(frozen=True)
class Row:
    name: str
    error: BaseException
    attempt: int
    age: timedelta
    state: MessageState | None
    delay_ms: tuple[int, int] | None = None  # inclusive bounds; None: no delay at all
    gave_up: bool = False
    error_class: str = ""


BUSY = RateLimitExceeded("mutex")  # type: ignore[no-untyped-call]  # dramatiq's errors are untyped

ROWS = [
    Row("a transport failure is retried after about the minimum backoff", RemoteUnavailable("down"), 1, FRESH,
        RETRYING, (MIN_MS // 2, MIN_MS), error_class="remote_unavailable"),
    Row("the backoff doubles with each try", RemoteTimeout("slow"), 3, FRESH, RETRYING, (2 * MIN_MS, 4 * MIN_MS)),
    Row("and stops growing at the maximum", RemoteUnavailable("down"), 5, FRESH, RETRYING, (MAX_MS // 2, MAX_MS)),
    Row("the remote's Retry-After wins over the backoff", RateLimited("busy", retry_after=42.5), 1, FRESH,
        RETRYING, (42_500, 42_500)),
    Row("a Retry-After longer than the maximum backoff is still obeyed", RateLimited("busy", retry_after=60), 4,
        FRESH, RETRYING, (60_000, 60_000)),
    Row("a retryable error gives up at the last allowed try", RemoteUnavailable("down"), MAX_ATTEMPTS, FRESH,
        PARKED, gave_up=True),
    Row("a retryable error gives up once the message is too old", RemoteUnavailable("down"), 2,
        MAX_AGE + timedelta(seconds=1), PARKED, gave_up=True),
    Row("a message exactly as old as allowed still retries", RemoteUnavailable("down"), 2, MAX_AGE, RETRYING,
        (MIN_MS, 2 * MIN_MS)),
    Row("a rejection by the remote parks at once", RemoteRejected("no", remote_message="Sai mã"), 1, FRESH,
        PARKED, error_class="remote_rejected"),
    Row("a refused login parks at once", AuthenticationFailed("bad password"), 1, FRESH, PARKED),
    Row("a record that cannot be mapped parks at once", MappingMissing("NT-XX-1", dossier_code="D1"), 1, FRESH,
        PARKED, error_class="mapping_missing"),
    Row("a configuration problem parks at once", ConfigurationError("no such unit"), 1, FRESH, PARKED,
        error_class="configuration_error"),
    Row("a paused target holds the message", DeliveryPaused("paused"), 1, FRESH, HELD,
        error_class="delivery_paused"),
    Row("a hold is not given up however old", DeliveryPaused("paused"), MAX_ATTEMPTS + 5, MAX_AGE * 10, HELD),
    Row("nothing to do skips the message", SkipMessage("already delivered"), 1, FRESH, SKIPPED,
        error_class="skipped"),
    Row("an unexpected exception is retried a little", KeyError("MaHoSo"), 1, FRESH, RETRYING,
        (MIN_MS // 2, MIN_MS), error_class="unexpected"),
    Row("an unexpected exception parks after a few tries, not after a day", ZeroDivisionError("Zq-9 divided"),
        UNEXPECTED_MAX_ATTEMPTS, FRESH, PARKED, gave_up=True, error_class="unexpected"),
    Row("a busy dossier goes back soon without counting a try", BUSY, MAX_ATTEMPTS,
        MAX_AGE * 2, None, BUSY_DELAY_MS),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_the_policy_decides_by_the_errors_action_the_try_and_the_age(row: Row) -> None:
    policy = RetryPolicy(
        max_attempts=MAX_ATTEMPTS,
        max_age=MAX_AGE,
        min_backoff_ms=MIN_MS,
        max_backoff_ms=MAX_MS,
        unexpected_max_attempts=UNEXPECTED_MAX_ATTEMPTS,
        rng=random.Random(7),
    )

    decision = policy.decide(row.error, attempt=row.attempt, age=row.age)

    assert decision.state is row.state
    assert decision.gave_up is row.gave_up
    if row.delay_ms is None:
        assert decision.delay_ms is None
    else:
        assert decision.delay_ms is not None and row.delay_ms[0] <= decision.delay_ms <= row.delay_ms[1]
    if row.error_class:
        assert decision.error_class == row.error_class
    if decision.state is not None and isinstance(row.error, HubError):
        assert decision.error_message == str(row.error)
    elif decision.state is not None:  # an unexpected exception's text may quote a record: only its type is kept
        assert type(row.error).__qualname__ in decision.error_message
        assert str(row.error) not in decision.error_message
        assert decision.finished is (decision.state in (PARKED, SKIPPED))
        assert decision.unexpected is (row.error_class == "unexpected")


def test_giving_up_says_how_many_tries_over_how_long() -> None:
    policy = RetryPolicy(max_attempts=3, max_age=MAX_AGE, min_backoff_ms=MIN_MS, max_backoff_ms=MAX_MS)

    decision = policy.decide(RemoteUnavailable("Cổng DVCQG không phản hồi"), attempt=3, age=timedelta(minutes=7))

    assert decision.summary.startswith("Đã thử 3 lần trong 0:07:00")
    assert decision.summary.endswith("Cổng DVCQG không phản hồi")
    assert decision.error_message == "Cổng DVCQG không phản hồi"  # the try's own row keeps the bare error


def test_a_rejection_keeps_the_remotes_words_verbatim() -> None:
    policy = RetryPolicy(max_attempts=3, max_age=MAX_AGE, min_backoff_ms=MIN_MS, max_backoff_ms=MAX_MS)
    error = RemoteRejected("Cổng từ chối hồ sơ", remote_message="Trường NgayHenTra không hợp lệ", status_code=400)
    assert policy.decide(error, attempt=1, age=FRESH).remote_message == "Trường NgayHenTra không hợp lệ"


def test_an_unexpected_exception_is_named_by_its_class_and_never_by_its_text() -> None:
    policy = RetryPolicy(max_attempts=3, max_age=MAX_AGE, min_backoff_ms=MIN_MS, max_backoff_ms=MAX_MS)
    message = policy.decide(RuntimeError("Nguyễn Văn Zq"), attempt=1, age=FRESH).error_message
    assert message.endswith("builtins.RuntimeError")
    assert "Zq" not in message


def test_the_policy_reads_its_bounds_from_the_settings() -> None:
    settings = Settings(
        _env_file=None,
        retry_max_attempts=4,
        retry_max_age_seconds=90,
        retry_min_backoff_ms=10,
        retry_max_backoff_ms=30,
    )
    policy = RetryPolicy.from_settings(settings)
    assert (policy.max_attempts, policy.max_age, policy.min_backoff_ms, policy.max_backoff_ms) == (
        4,
        timedelta(seconds=90),
        10,
        30,
    )


@pytest.mark.parametrize("attempt", range(1, 12))
def test_backoff_stays_in_the_upper_half_of_its_ceiling(attempt: int) -> None:
    ceiling = min(MAX_MS, MIN_MS * 2 ** (attempt - 1))
    rng = random.Random(attempt)
    delays = [backoff_ms(attempt, min_ms=MIN_MS, max_ms=MAX_MS, rng=rng) for _ in range(200)]
    assert all(ceiling // 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 100  # jittered: workers that failed together do not come back together
