"""The normalisers: text, phone numbers, e-mail, every date format, flags, cutting at word boundaries."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from foundation.clock import VN_TZ
from mappings import normalize as n
from mappings.codes import Channel, Status
from mappings.tables import tables

PLUS_7 = timezone(timedelta(hours=7))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20231027081500", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("20231027", datetime(2023, 10, 27, tzinfo=VN_TZ)),
        ("2023-10-27T08:15:00", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("2023-10-27T08:15:00+07:00", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("2023-10-27T01:15:00Z", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("2023-10-27T10:15:00+09:00", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("27/10/2023 08:15:00", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("27/10/2023 08:15", datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        ("27/10/2023", datetime(2023, 10, 27, tzinfo=VN_TZ)),
        (" 27/10/2023 ", datetime(2023, 10, 27, tzinfo=VN_TZ)),
        (datetime(2023, 10, 27, 8, 15), datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),  # noqa: DTZ001
        (datetime(2023, 10, 27, 1, 15, tzinfo=UTC), datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        (datetime(2023, 10, 27, 8, 15, tzinfo=PLUS_7), datetime(2023, 10, 27, 8, 15, tzinfo=VN_TZ)),
        (date(2023, 10, 27), datetime(2023, 10, 27, tzinfo=VN_TZ)),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_every_date_format_becomes_vietnam_time(raw: object, expected: datetime | None) -> None:
    value = n.moment(raw)
    assert value == expected
    if value is not None:
        assert value.tzinfo is VN_TZ
        assert value.utcoffset() == timedelta(hours=7)


@pytest.mark.parametrize("raw", ["31/02/2023", "2023-13-01", "27-10-2023", "202310270815", "hôm qua", 20231027, "2023"])
def test_unknown_date_formats_are_refused(raw: object) -> None:
    with pytest.raises(n.Invalid, match="known format"):
        n.moment(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0905123456", "0905123456"),
        ("+84905123456", "0905123456"),
        ("84 905 123 456", "0905123456"),
        ("0084-905-123-456", "0905123456"),
        ("(0235) 3871.234", "02353871234"),
        ("", None),
        (None, None),
    ],
)
def test_phone_numbers_are_normalised(raw: object, expected: str | None) -> None:
    assert n.phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "090512345", "09051234567", "0105123456", "abc"])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(n.Invalid, match="phone"):
        n.phone(raw)


def test_email_domain_is_lower_cased_and_shape_checked() -> None:
    assert n.email("  An.Nguyen@Example.VN ") == "An.Nguyen@example.vn"
    assert n.email("") is None
    for bad in ["an", "an@", "an@example", "a n@example.vn", "a@b@c.vn"]:
        with pytest.raises(n.Invalid, match="e-mail"):
            n.email(bad)


def test_text_is_nfc_and_names_fold_whitespace() -> None:
    decomposed = unicodedata.normalize("NFD", "  Nguyễn \t Văn\n An ")
    assert n.text(decomposed) == unicodedata.normalize("NFC", "Nguyễn \t Văn\n An")
    assert n.name(decomposed) == "Nguyễn Văn An"
    assert n.text("  ") is None


def test_summaries_and_handlers_are_cut_at_a_word_boundary() -> None:
    summary = n.summary("từ " * 600)
    assert len(summary) <= 999 and summary.endswith("từ…")
    assert n.summary("ngắn") == "ngắn"
    long_word = n.summary("x" * 1500)
    assert len(long_word) == 999 and long_word.endswith("…")
    handler = n.handler("Nguyễn Thị Phương Thảo Hoàng Lê Minh Khôi Trần Đức Anh Tuấn")
    assert handler == "Nguyễn Thị Phương Thảo Hoàng Lê Minh Khôi Trần…"
    assert handler is not None and len(handler) <= 50


@pytest.mark.parametrize(("raw", "expected"), [(True, True), ("1", True), ("true", True), (0, False), ("0", False),
                                               ("False", False), (None, False), ("", False)])  # fmt: skip
def test_flags(raw: object, expected: bool) -> None:
    assert n.flag(raw) is expected


def test_code_tables_read_numbers_english_names_and_aliases() -> None:
    t = tables()
    assert t.status.parse(4) is Status.PROCESSING
    assert t.status.parse("10") is Status.RETURNED
    assert t.status.parse("Cancelled") is Status.WITHDRAWN
    assert t.status.parse("đang xử lý") is Status.PROCESSING
    assert t.channel.parse("online") is Channel.ONLINE
    assert t.channel.parse(" Trực tiếp ") is Channel.IN_PERSON
    assert t.return_method.parse_optional("") is None
    for bad in (0, True, "11", None):
        with pytest.raises(n.Invalid, match="status code"):
            t.status.parse(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "01/01/0001",
        "0001-01-01T00:00:00",
        "00010101000000",
        "1900-01-01",
        "9999-12-31T23:59:59.9999999"[:26],
        "31/12/9999 23:59:59",
        datetime(1, 1, 1),  # noqa: DTZ001 - .NET's DateTime.MinValue as zeep parses it
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        date(1900, 1, 1),
    ],
)
def test_placeholder_days_mean_unknown(raw: object) -> None:
    assert n.moment(raw) is None


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:30:00-05:00", "9999-12-31T23:59:59"])
def test_a_date_the_calendar_cannot_hold_in_vietnam_time_is_refused_never_overflows(raw: str) -> None:
    # Without placeholders these leave the calendar when converted to +07:00: Invalid, never OverflowError.
    try:
        value = n.moment(raw, unknown=frozenset())
    except n.Invalid:
        return
    assert value is not None and value.tzinfo is VN_TZ and value.year == 9999


def test_a_vendor_may_name_its_own_placeholder_day() -> None:
    assert n.moment("1753-01-01", unknown=n.UNKNOWN_DATES | {date(1753, 1, 1)}) is None
    assert n.moment("1753-01-01") == datetime(1753, 1, 1, tzinfo=VN_TZ)
