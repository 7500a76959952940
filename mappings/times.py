"""Times as numbers: epoch seconds or milliseconds, as some vendors write them in requests, feeds and records.

Text times (any zone, by strftime formats) are :class:`mappings.vendors.Converter`'s; these are the numeric forms a
profile chooses with ``epoch: s`` or ``epoch: ms``. Pure.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any, Final, Literal

Epoch = Literal["s", "ms"]

PER_SECOND: Final[dict[str, int]] = {"s": 1, "ms": 1000}


def to_epoch(moment: datetime, unit: Epoch) -> int:
    """``moment`` (timezone-aware) as a whole number of seconds or milliseconds since 1970-01-01T00:00Z."""
    return round(moment.timestamp() * PER_SECOND[unit])


def from_epoch(value: Any, unit: Epoch, zone: tzinfo = UTC) -> Any:
    """A number (or a text of digits) of seconds or milliseconds as an aware time in ``zone``; anything else is
    returned as it came, so the mapping reports it at its field."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            return value
        value = int(text)
    if not isinstance(value, int | float):
        return value
    try:
        return datetime.fromtimestamp(value / PER_SECOND[unit], tz=UTC).astimezone(zone)
    except (OverflowError, OSError, ValueError):
        return value
