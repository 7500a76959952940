"""The canonical dossier model: codes, statuses, text and time normalisation, personal data."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from foundation.clock import VN_TZ
from foundation.redaction import REDACTED, personal_fields, redact_model
from foundation.text import CLEAN_NAME_PATTERN, CLEAN_TEXT_PATTERN, normalize_name, normalize_text
from mappings.canonical import Applicant, Dossier, ProgressEntry, parse_dossier_code
from mappings.codes import STATUS_LABELS, Status


def dossier_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "000.00.17.H47-231027-0001",
        "receiving_unit": "517",
        "local_procedure_code": "NT-HT-01",
        "procedure_name": "Đăng ký khai sinh",
        "channel": 2,
        "applicant": {"name": "Nguyễn Văn An", "id_number": "049123456789", "phone": "0905123456"},
        "status": 4,
        "version": 1,
        "updated_at": datetime(2023, 10, 27, 8, 30, tzinfo=VN_TZ),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("code", "label", "terminal"),
    [
        (1, "Mới đăng ký", False),
        (2, "Được tiếp nhận", False),
        (3, "Không được tiếp nhận", True),
        (4, "Đang xử lý", False),
        (5, "Yêu cầu bổ sung giấy tờ", False),
        (6, "Yêu cầu thực hiện nghĩa vụ tài chính", False),
        (7, "Công dân yêu cầu rút hồ sơ", True),
        (8, "Dừng xử lý", True),
        (9, "Đã xử lý xong", False),
        (10, "Đã trả kết quả", True),
    ],
)
def test_every_status_has_its_label_and_terminal_flag(code: int, label: str, terminal: bool) -> None:
    status = Status(code)
    assert status.label == label
    assert status.terminal is terminal
    assert Status.parse(str(code)) is status
    assert Status.parse(status.english_name) is status


def test_status_table_is_complete() -> None:
    assert set(STATUS_LABELS) == set(Status)
    assert [s.value for s in Status] == list(range(1, 11))


@pytest.mark.parametrize("raw", [0, 11, "x", "", None, True, "Processing?"])
def test_unknown_status_is_refused(raw: object) -> None:
    with pytest.raises(ValueError, match="unknown status code"):
        Status.parse(raw)


@pytest.mark.parametrize(
    ("previous", "new", "allowed"),
    [
        (Status.RETURNED, Status.PROCESSING, False),  # a late "4" must never overwrite a "10"
        (Status.RETURNED, Status.DONE, False),
        (Status.RETURNED, Status.RETURNED, True),
        (Status.WITHDRAWN, Status.PROCESSING, False),
        (Status.REFUSED, Status.ACCEPTED, False),
        (Status.DONE, Status.PROCESSING, False),
        (Status.PROCESSING, Status.ACCEPTED, False),
        (Status.PROCESSING, Status.SUPPLEMENT_REQUIRED, True),  # supplement rounds: 4 → 5 → 4
        (Status.SUPPLEMENT_REQUIRED, Status.PROCESSING, True),
        (Status.PAYMENT_REQUIRED, Status.PROCESSING, True),
        (Status.DONE, Status.RETURNED, True),
        (Status.SUBMITTED, Status.REFUSED, True),
        (Status.PROCESSING, Status.WITHDRAWN, True),
    ],
)
def test_status_precedence_forbids_regressions(previous: Status, new: Status, allowed: bool) -> None:
    assert new.may_follow(previous) is allowed


def test_valid_dossier_code_is_taken_apart() -> None:
    parts = parse_dossier_code("000.00.06.H56-231027-0361")
    assert parts.agency_id == "000.00.06.H56"
    assert parts.received_on == date(2023, 10, 27)
    assert parts.counter == 361
    assert str(parts) == "000.00.06.H56-231027-0361"


@pytest.mark.parametrize(
    ("code", "complaint"),
    [
        ("000.00.06.X56-231027-0361", "mã định danh cơ quan"),  # wrong agency identifier
        ("00.00.06.H56-231027-0361", "mã định danh cơ quan"),
        ("000.00.06.H56-230230-0001", "không tồn tại"),  # 30 February
        ("000.00.06.H56-231327-0001", "không tồn tại"),  # month 13
        ("000.00.06.H56-231027-0000", "bắt đầu từ 0001"),  # counter starts at 1
        ("000.00.06.H56-231027-361", "không theo mẫu"),  # counter not four digits
        ("000.00.06.H56-231027-03610", "không theo mẫu"),
        ("000.00.06.H56 231027 0361", "mã định danh cơ quan"),
    ],
)
def test_invalid_dossier_codes_are_refused_with_the_reason(code: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        Dossier.model_validate(dossier_data(code=code))


def test_decomposed_vietnamese_is_stored_as_nfc() -> None:
    nfd_name = unicodedata.normalize("NFD", "  Nguyễn   Thị Hồng  ")
    nfd_procedure = unicodedata.normalize("NFD", "Cấp giấy chứng nhận quyền sử dụng đất")
    assert nfd_name != unicodedata.normalize("NFC", nfd_name)

    dossier = Dossier.model_validate(
        dossier_data(applicant={"name": nfd_name}, procedure_name=nfd_procedure, summary=nfd_procedure)
    )

    assert dossier.applicant.name == "Nguyễn Thị Hồng"
    assert unicodedata.is_normalized("NFC", dossier.procedure_name)
    assert dossier.procedure_name == "Cấp giấy chứng nhận quyền sử dụng đất"
    assert unicodedata.is_normalized("NFC", dossier.summary)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Dossier.model_validate(dossier_data(updated_at=datetime(2023, 10, 27, 8, 30)))  # noqa: DTZ001


def test_aware_datetimes_are_converted_to_vietnam_time() -> None:
    dossier = Dossier.model_validate(
        dossier_data(
            updated_at=datetime(2023, 10, 27, 1, 30, tzinfo=UTC),
            received_at="2023-10-27T10:00:00+09:00",
        )
    )
    assert dossier.updated_at.utcoffset() == timedelta(hours=7)
    assert dossier.updated_at.hour == 8
    assert dossier.received_at == datetime(2023, 10, 27, 1, 0, tzinfo=UTC)
    assert dossier.received_at is not None and dossier.received_at.tzinfo == VN_TZ
    other = datetime(2023, 1, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert Dossier.model_validate(dossier_data(updated_at=other)).updated_at.hour == 12


def test_summary_and_handler_lengths_are_bounded() -> None:
    with pytest.raises(ValidationError, match="summary"):
        Dossier.model_validate(dossier_data(summary="a" * 1000))
    with pytest.raises(ValidationError, match="handler"):
        ProgressEntry(handler="x" * 51, at=datetime.now(VN_TZ), content="Tiếp nhận", status=Status.ACCEPTED)


def test_personal_fields_are_marked_and_redacted() -> None:
    assert {"name", "id_number", "phone", "email", "address"} <= personal_fields(Applicant)
    dossier = Dossier.model_validate(dossier_data())

    hidden = redact_model(dossier, Dossier)

    assert hidden["applicant"]["name"] == REDACTED
    assert hidden["applicant"]["id_number"] == REDACTED
    assert hidden["applicant"]["phone"] == REDACTED
    assert hidden["applicant"]["email"] is None  # nothing to hide
    assert hidden["code"] == dossier.code
    assert hidden["procedure_name"] == dossier.procedure_name


def test_the_model_is_frozen_and_strict_about_unknown_fields() -> None:
    dossier = Dossier.model_validate(dossier_data())
    with pytest.raises(ValidationError):
        dossier.status = Status.DONE  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Dossier.model_validate(dossier_data(unknown_field=1))


@pytest.mark.parametrize(
    ("pattern", "normalize"),
    [(CLEAN_TEXT_PATTERN, normalize_text), (CLEAN_NAME_PATTERN, normalize_name)],
    ids=["text", "name"],
)
def test_a_value_the_fast_path_accepts_is_one_the_normalizer_leaves_unchanged(
    pattern: str, normalize: Callable[[str], str]
) -> None:
    # Given pydantic's own regex for values already clean, which skips the normalizer
    clean = TypeAdapter(Annotated[str, Field(pattern=pattern)])
    unchanged: list[str] = []
    # When every code point is tried inside a value (a value is accepted only if each of its characters is), and the
    # characters accepted there are tried alone, at either end, doubled and after a letter an accent composes with
    inner = []
    for cp in range(0x110000):
        if not 0xD800 <= cp <= 0xDFFF and _accepts(clean, "a" + chr(cp) + "b"):
            inner.append(chr(cp))
    for c in inner:
        unchanged.extend(v for v in ("a" + c + "b", c, c + "a", "a" + c, "A" + c + c, "a " + c) if _accepts(clean, v))
    # Then every value it accepts is NFC, and one the normalizer returns as it is
    assert len(unchanged) > 4_000  # the fast path is taken for the Vietnamese alphabet and punctuation
    assert [v for v in unchanged if normalize(v) != v or not unicodedata.is_normalized("NFC", v)] == []


def test_decomposed_or_padded_values_take_the_normalizer_on_every_text_field() -> None:
    d = Dossier.model_validate(
        dossier_data(
            procedure_name="  Đăng   ký\u0301 ",
            summary="a\u0301\x00 ",
            progress=[
                {
                    "handler": " Trần  Thị ",
                    "at": datetime(2023, 10, 27, 9, tzinfo=VN_TZ),
                    "content": "x\x07",
                    "status": 4,
                }
            ],
        )
    )
    assert (d.procedure_name, d.summary) == (unicodedata.normalize("NFC", "Đăng ký\u0301"), "á")
    assert (d.progress[0].handler, d.progress[0].content) == ("Trần Thị", "x")


def _accepts(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True
