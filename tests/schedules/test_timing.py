"""Tick identities: computed from the schedule alone, so every scheduler names a tick the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError
from schedules.timing import EPOCH, Cron, Every

# hypothesis takes naive bounds by contract and attaches the timezone itself
instants = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(now=instants, seconds=st.integers(min_value=1, max_value=86_400))
def test_an_interval_ticks_on_multiples_of_itself_since_the_epoch(now: datetime, seconds: int) -> None:
    every = Every(seconds)
    tick = every.latest(now)
    assert tick <= now < tick + timedelta(seconds=seconds)
    assert (tick - EPOCH).total_seconds() % seconds == 0
    assert every.next_after(now) == tick + timedelta(seconds=seconds)


@given(start=instants, offset=st.floats(min_value=0, max_value=59.999))
def test_schedulers_started_at_different_moments_agree_on_the_tick(start: datetime, offset: float) -> None:
    every = Every(60)
    tick = every.latest(start)
    assert every.latest(tick + timedelta(seconds=offset)) == tick


def test_the_apscheduler_trigger_fires_on_the_same_ticks() -> None:
    every = Every(7)
    now = datetime(2026, 11, 26, 11, 25, 7, 164916, tzinfo=UTC)
    fire = every.trigger().get_next_fire_time(None, now)
    assert fire == every.next_after(now)


def test_a_cron_expression_is_read_in_vietnam_time() -> None:
    cron = Cron("15 2 * * *")
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # 19:00 in Hà Nội
    assert cron.latest(now) == datetime(2026, 11, 26, 2, 15, tzinfo=VN_TZ)
    assert cron.next_after(now) == datetime(2026, 11, 27, 2, 15, tzinfo=VN_TZ)
    assert cron.period(now) == timedelta(days=1)


@given(now=instants)
def test_a_cron_latest_tick_is_the_newest_one_not_after_now(now: datetime) -> None:
    cron = Cron("*/5 * * * *")
    tick = cron.latest(now)
    assert tick <= now < tick + timedelta(minutes=5)
    assert tick.minute % 5 == 0 and tick.second == 0 and tick.microsecond == 0


def test_a_tick_exactly_at_now_is_the_latest() -> None:
    now = datetime(2026, 11, 26, 19, 30, tzinfo=VN_TZ)
    assert Cron("30 19 * * *").latest(now) == now
    assert Every(60).latest(now.astimezone(UTC)) == now


def test_a_monthly_cron_finds_last_month() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    assert Cron("0 8 1 * *").latest(now) == datetime(2026, 11, 1, 8, 0, tzinfo=VN_TZ)


@pytest.mark.parametrize("expression", ["not cron", "61 * * * *", "* * *"])
def test_a_wrong_cron_expression_is_a_configuration_error(expression: str) -> None:
    with pytest.raises(ConfigurationError, match="cron"):
        Cron(expression)


def test_an_interval_below_one_second_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        Every(0)
