"""The time zone every date of the hub is read in, and the clocks the hub asks for the time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo

VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_now() -> datetime:
    """Now, in Vietnam's time zone."""
    return datetime.now(VN_TZ)


def today() -> date:
    """Today's date in Vietnam, whatever the server's time zone."""
    return vietnam_now().date()


def utcnow() -> datetime:
    """Now, in UTC (what the store writes)."""
    return datetime.now(UTC)
