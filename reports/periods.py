"""Reporting periods: a day, month, quarter or year, written ``2023-10-05``, ``2023-10``, ``2023-Q4``, ``2023``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final

from foundation.clock import VN_TZ

_DAY: Final = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH: Final = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER: Final = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR: Final = re.compile(r"^(\d{4})$")
# The years a report may cover: wide enough for any record a province keeps, narrow enough that a period, the one
# before it and its Vietnam-time bounds in UTC stay inside the calendar (0001-01 and 9999-12-31 overflow).
FIRST_YEAR: Final = 1990
LAST_YEAR: Final = 2099


class Grain(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of Vietnam calendar days."""

    grain: Grain
    start: date
    end: date

    @property
    def label(self) -> str:
        match self.grain:
            case Grain.DAY:
                return self.start.isoformat()
            case Grain.MONTH:
                return f"{self.start:%Y-%m}"
            case Grain.QUARTER:
                return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
            case Grain.YEAR:
                return str(self.start.year)

    def __str__(self) -> str:
        return self.label

    @property
    def opens_at(self) -> datetime:
        """The first moment of the period: midnight of its first day, Vietnam time."""
        return datetime.combine(self.start, time.min, tzinfo=VN_TZ)

    @property
    def closes_at(self) -> datetime:
        """The last moment of the period: the end of its last day, Vietnam time."""
        return datetime.combine(self.end, time.max, tzinfo=VN_TZ)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        """The period of the same grain just before this one (month over month, quarter over quarter)."""
        return period_of(self.grain, self.start - timedelta(days=1))


def period_of(grain: Grain, day: date) -> Period:
    """The period of ``grain`` that holds ``day``."""
    match grain:
        case Grain.DAY:
            return Period(grain, day, day)
        case Grain.MONTH:
            start = day.replace(day=1)
            return Period(grain, start, _month_end(start))
        case Grain.QUARTER:
            start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
            return Period(grain, start, _month_end(date(day.year, start.month + 2, 1)))
        case Grain.YEAR:
            return Period(grain, date(day.year, 1, 1), date(day.year, 12, 31))


def parse_period(text: str) -> Period:
    """``2023-10-05`` (day), ``2023-10`` (month), ``2023-Q4`` (quarter) or ``2023`` (year), in the years
    FIRST_YEAR to LAST_YEAR; ValueError otherwise."""
    value = text.strip()
    if value[:4].isdigit() and not FIRST_YEAR <= int(value[:4]) <= LAST_YEAR:
        raise ValueError(f"kỳ báo cáo {text!r} nằm ngoài các năm {FIRST_YEAR}–{LAST_YEAR} (period out of range)")
    try:
        if match := _DAY.match(value):
            return period_of(Grain.DAY, date(*(int(g) for g in match.groups())))
        if match := _MONTH.match(value):
            return period_of(Grain.MONTH, date(int(match[1]), int(match[2]), 1))
        if match := _QUARTER.match(value):
            return period_of(Grain.QUARTER, date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1))
        if match := _YEAR.match(value):
            return period_of(Grain.YEAR, date(int(match[1]), 1, 1))
    except ValueError as exc:
        raise ValueError(f"kỳ báo cáo {text!r} không tồn tại (no such period)") from exc
    raise ValueError(
        f"kỳ báo cáo {text!r} không đúng dạng 2023-10-05, 2023-10, 2023-Q4 hoặc 2023 "
        f"(period must be a day, month, quarter or year)"
    )


def _month_end(first: date) -> date:
    following = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return following - timedelta(days=1)
