"""Pure normalisers for the values one-stop-shop systems send: text, names, phone numbers, e-mail, dates, flags.

They run per field per record, so each one takes the cheap path first (ASCII text, datetimes already parsed).
A value that cannot be normalised raises :class:`Invalid` with the reason in Vietnamese and English; the mapping
that called it turns that into a :class:`hub.errors.Problem` at the field's path, so a record reports every
problem at once.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Final

from foundation.clock import VN_TZ
from mappings.canonical import HANDLER_MAX, SUMMARY_MAX

ELLIPSIS: Final = "…"


class Invalid(ValueError):
    """Raised when a value cannot be normalised; carries the reason in Vietnamese and English."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} ({message_en})")
        self.message_vi = message_vi
        self.message_en = message_en


def text(value: object) -> str | None:
    """NFC text with leading and trailing whitespace removed; None, "" and blank become None."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    value = value.strip()
    return value or None


def name(value: object) -> str | None:
    """NFC, and every run of whitespace inside the value folded to one space (names, titles, one-line values)."""
    cleaned = text(value)
    if cleaned is None:
        return None
    # split/join costs a list per call; most names have single spaces only
    if "  " in cleaned or "\t" in cleaned or "\n" in cleaned or "\r" in cleaned or "\xa0" in cleaned:
        cleaned = " ".join(cleaned.split())
    return cleaned


def cut(value: str, limit: int) -> str:
    """``value`` shortened to at most ``limit`` characters at a word boundary, marked with an ellipsis when cut."""
    if len(value) <= limit:
        return value
    head = value[: limit - len(ELLIPSIS) + 1]
    space = head.rfind(" ")
    # a single very long word is cut inside the word rather than dropped entirely
    head = head[:space] if space > 0 else head[: limit - len(ELLIPSIS)]
    return head[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def summary(value: object) -> str:
    """The dossier summary (TrichYeuHoSo): NFC, trimmed, cut below 1000 characters at a word boundary."""
    cleaned = text(value)
    if cleaned is None:
        return ""
    return cut(cleaned, SUMMARY_MAX)


def handler(value: object) -> str | None:
    """A handler's name (NguoiXuLy): one line, cut to the portal's 50 characters at a word boundary."""
    cleaned = name(value)
    return None if cleaned is None else cut(cleaned, HANDLER_MAX)


_PHONE_JUNK: Final = str.maketrans("", "", " .-()/\t\xa0")
_MOBILE: Final = re.compile(r"0[35789]\d{8}")
_LANDLINE: Final = re.compile(r"02\d{9}")


def phone(value: object) -> str | None:
    """A Vietnamese phone number as ``0…``: mobiles have 10 digits, landlines (02x area codes) 11.

    The country prefix arrives as +84, 84 or 0084 and is replaced by the trunk 0; separators are dropped.
    """
    raw = text(value)
    if raw is None:
        return None
    digits = raw.translate(_PHONE_JUNK)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    raise Invalid(
        "số điện thoại không hợp lệ: cần 10 chữ số (di động) hoặc 11 chữ số (cố định) bắt đầu bằng 0",
        "not a Vietnamese phone number: 10 digits (mobile) or 11 (landline) starting with 0",
    )


_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def email(value: object) -> str | None:
    """An e-mail address, trimmed, with its domain lower-cased (the local part is the owner's business)."""
    raw = text(value)
    if raw is None:
        return None
    if not _EMAIL.fullmatch(raw):
        raise Invalid("địa chỉ email sai định dạng", "not an e-mail address")
    local, domain = raw.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def code(value: object) -> str | None:
    """A code that may arrive as a number or padded text: the trimmed string, None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        raise Invalid("mã không được là giá trị đúng/sai", "a code cannot be a boolean")
    return str(value)


_TRUE: Final = frozenset({"1", "true", "yes", "co", "có", "x"})
_FALSE: Final = frozenset({"0", "false", "no", "khong", "không", ""})


def flag(value: object, default: bool = False) -> bool:
    """A yes/no flag from a boolean, 0/1 or their text forms; None means ``default``."""
    if value is None:
        return default
    if value is True or value is False:
        return value
    if isinstance(value, int):
        if value in (0, 1):
            return bool(value)
    elif isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return default if lowered == "" else False
    raise Invalid("giá trị đúng/sai không hợp lệ (cần 0/1, true/false)", "not a yes/no flag (0/1, true/false)")


def optional_flag(value: object) -> bool | None:
    """A yes/no flag that may be unknown: None and "" stay None."""
    if value is None or value == "":
        return None
    return flag(value)


# Placeholders that source databases write for "no date" (.NET's DateTime.MinValue, SQL defaults, MaxValue): they
# mean unknown. A vendor profile adds its own (``unknown_dates``); the canonical model refuses any other date outside
# its plausible range.
UNKNOWN_DATES: Final = frozenset({date(1, 1, 1), date(1900, 1, 1), date(9999, 12, 31)})


def moment(value: object, unknown: frozenset[date] = UNKNOWN_DATES) -> datetime | None:
    """A point in time, timezone-aware in Asia/Ho_Chi_Minh, from any format seen in the wild.

    Accepted: datetime objects (naive ones are Vietnam local time), dates (midnight local), and strings
    ``yyyyMMddHHmmss``, ``yyyyMMdd``, ISO 8601 with or without offset (without: Vietnam local time),
    ``dd/MM/yyyy HH:mm:ss``, ``dd/MM/yyyy HH:mm`` and ``dd/MM/yyyy``. None, "" and the placeholder days in
    ``unknown`` (on the source's own calendar) mean unknown. It never raises anything but :class:`Invalid`.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is VN_TZ:
            return None if value.date() in unknown else value
        return _localised(value, unknown)
    if isinstance(value, date):
        return None if value in unknown else datetime(value.year, value.month, value.day, tzinfo=VN_TZ)
    if not isinstance(value, str):
        raise _bad_moment()
    raw = value.strip()
    if not raw:
        return None
    try:
        return _localised(_parse_moment(raw), unknown)
    except ValueError:
        raise _bad_moment() from None


def day_written(value: object) -> date | None:
    """The calendar day a date value names as written (before any timezone conversion), or None when it is no date."""
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _parse_moment(value.strip()).date()
    except ValueError:
        return None


def _localised(value: datetime, unknown: frozenset[date]) -> datetime | None:
    if value.date() in unknown:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=VN_TZ)
    try:
        return value.astimezone(VN_TZ)
    except OverflowError:  # the first or last day the calendar has, in another offset: no real dossier date
        raise _bad_moment() from None


def _parse_moment(raw: str) -> datetime:
    size = len(raw)
    if raw.isdigit():
        if size == 14:
            y, mo, d = int(raw[0:4]), int(raw[4:6]), int(raw[6:8])
            return datetime(y, mo, d, int(raw[8:10]), int(raw[10:12]), int(raw[12:14]), tzinfo=VN_TZ)
        if size == 8:
            return datetime(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]), tzinfo=VN_TZ)
        raise ValueError(raw)
    if raw[2:3] == "/" and raw[5:6] == "/":
        day = datetime(int(raw[6:10]), int(raw[3:5]), int(raw[0:2]), tzinfo=VN_TZ)
        if size == 10:
            return day
        if raw[10] != " " or size not in (16, 19):
            raise ValueError(raw)
        second = int(raw[17:19]) if size == 19 else 0
        return day.replace(hour=int(raw[11:13]), minute=int(raw[14:16]), second=second)
    if size < 10 or raw[4] != "-":
        raise ValueError(raw)
    return datetime.fromisoformat(raw)  # its own offset, if any: the caller checks placeholders before converting


def _bad_moment() -> Invalid:
    return Invalid(
        "ngày giờ không đúng định dạng (yyyyMMddHHmmss, yyyy-MM-ddTHH:mm:ss, dd/MM/yyyy HH:mm:ss)",
        "not a date/time in a known format (yyyyMMddHHmmss, ISO 8601, dd/MM/yyyy HH:mm:ss)",
    )
