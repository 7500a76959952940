"""Dates as operators type them: ``dd/mm/yyyy`` as every Vietnamese form writes them, or ISO ``yyyy-mm-dd``; a time
without an offset is Vietnam time. Every command-line date option reads its value with these functions."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Final

from foundation.clock import VN_TZ

_DAY: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DAY_AND_TIME: Final = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")

DAY_FORMATS: Final = "dd/mm/yyyy (ví dụ 31/10/2023) hoặc yyyy-mm-dd"
MOMENT_FORMATS: Final = f"{DAY_FORMATS}, có thể kèm giờ HH:MM (31/10/2023 14:30), hoặc thời điểm ISO 8601"


class DateInputError(ValueError):
    """Raised when a date typed by an operator is in no accepted format or names no real day."""


def day(text: str) -> date:
    """The calendar day ``text`` names: ``31/10/2023``, ``1/9/2023`` or ``2023-10-31``."""
    found = _written_day(text)
    if found is None:
        raise DateInputError(f"{text!r} không phải ngày; viết {DAY_FORMATS}")
    return found


def moment(text: str, *, end_of_day: bool = False) -> datetime:
    """The instant ``text`` names, in Vietnam time: a day alone is its first instant, or with ``end_of_day`` the
    first instant of the next day (so that an end bound written as a day includes that whole day); a time may
    follow the day (``31/10/2023 14:30``); ISO 8601 with an offset keeps it."""
    written = _written_day(text)
    if written is not None:
        return _at_day_boundary(written, end_of_day=end_of_day)
    value = text.strip()
    try:
        if found := _DAY_AND_TIME.fullmatch(value):
            d, m, y, hh, mm, ss = found.groups()
            return datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss or 0), tzinfo=VN_TZ)
        if _ISO_DAY.match(value):
            instant = datetime.fromisoformat(value)
            return instant.replace(tzinfo=VN_TZ) if instant.tzinfo is None else instant
    except ValueError:
        pass
    raise DateInputError(f"{text!r} không phải ngày giờ hợp lệ; viết {MOMENT_FORMATS}")


def since(text: str) -> datetime:
    """The start of a range: a day means from its first instant."""
    return moment(text)


def until(text: str) -> datetime:
    """The end of a range, excluded: a day means up to the end of that day, so ``--until 31/10/2023`` includes it."""
    return moment(text, end_of_day=True)


def _written_day(text: str) -> date | None:
    """The day ``text`` writes, or None when it is not written as a day alone; a day that does not exist
    (``31/02/2023``) is an error, not another format."""
    value = text.strip()
    try:
        if found := _DAY.fullmatch(value):
            return date(int(found[3]), int(found[2]), int(found[1]))
        if _ISO_DAY.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        raise DateInputError(f"{text!r} không phải một ngày có thật; viết {DAY_FORMATS}") from None
    return None


def _at_day_boundary(value: date, *, end_of_day: bool) -> datetime:
    try:
        return datetime.combine(value + timedelta(days=1 if end_of_day else 0), time.min, tzinfo=VN_TZ)
    except OverflowError:  # the calendar's last day as an end bound: no operator means it
        raise DateInputError(f"{value:%d/%m/%Y} nằm ngoài lịch; chọn một ngày gần đây") from None
