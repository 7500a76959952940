"""Code tables shared by every system: dossier status, channel, applicant type, return method, service level.

The numeric values are the national portal's (``docs/domain/dvcqg-contract.md``); the enums carry the
Vietnamese labels administrators read and the rules the hub enforces (terminal states, no regressions).
"""

from __future__ import annotations

from enum import IntEnum


class Status(IntEnum):
    """TrangThaiHoSo: a dossier's processing status."""

    SUBMITTED = 1  # Mới đăng ký
    ACCEPTED = 2  # Được tiếp nhận
    REFUSED = 3  # Không được tiếp nhận
    PROCESSING = 4  # Đang xử lý
    SUPPLEMENT_REQUIRED = 5  # Yêu cầu bổ sung giấy tờ
    PAYMENT_REQUIRED = 6  # Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = 7  # Công dân yêu cầu rút hồ sơ
    STOPPED = 8  # Dừng xử lý
    DONE = 9  # Đã xử lý xong
    RETURNED = 10  # Đã trả kết quả

    @property
    def label(self) -> str:
        """The Vietnamese label, as the national portal and one-stop-shop software show it."""
        return STATUS_LABELS[self]

    @property
    def english_name(self) -> str:
        """The English status name some one-stop-shop systems use on the wire."""
        return STATUS_ENGLISH_NAMES[self]

    @property
    def terminal(self) -> bool:
        """True when nothing may follow this status: refused, withdrawn, stopped, result returned."""
        return self in TERMINAL_STATUSES

    @property
    def stage(self) -> int:
        """How far along the lifecycle this status is; a dossier never moves to a lower stage."""
        return STATUS_STAGES[self]

    def may_follow(self, previous: Status) -> bool:
        """Whether this status may replace ``previous`` without regressing the dossier.

        Supplement and payment rounds move back and forth inside the processing stage (4 → 5 → 4), so the
        rule is about stages, not numbers; a terminal status is final, whatever arrives later.
        """
        if previous.terminal:
            return self is previous
        return self.stage >= previous.stage

    @classmethod
    def parse(cls, raw: object) -> Status:
        """A status from a number, a numeric string or an English name ("processing"); ValueError otherwise."""
        if isinstance(raw, Status):
            return raw
        if isinstance(raw, int) and not isinstance(raw, bool) and raw in _STATUS_VALUES:
            return cls(raw)
        if isinstance(raw, str):
            text = raw.strip()
            if text.isdigit() and int(text) in _STATUS_VALUES:
                return cls(int(text))
            by_name = _STATUS_BY_ENGLISH_NAME.get(text.lower())
            if by_name is not None:
                return by_name
        raise ValueError(f"mã trạng thái không hợp lệ / unknown status code: {raw!r}")


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "Mới đăng ký",
    Status.ACCEPTED: "Được tiếp nhận",
    Status.REFUSED: "Không được tiếp nhận",
    Status.PROCESSING: "Đang xử lý",
    Status.SUPPLEMENT_REQUIRED: "Yêu cầu bổ sung giấy tờ",
    Status.PAYMENT_REQUIRED: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Status.WITHDRAWN: "Công dân yêu cầu rút hồ sơ",
    Status.STOPPED: "Dừng xử lý",
    Status.DONE: "Đã xử lý xong",
    Status.RETURNED: "Đã trả kết quả",
}

STATUS_ENGLISH_NAMES: dict[Status, str] = {
    Status.SUBMITTED: "receiving",
    Status.ACCEPTED: "new",
    Status.REFUSED: "denied",
    Status.PROCESSING: "processing",
    Status.SUPPLEMENT_REQUIRED: "waiting",
    Status.PAYMENT_REQUIRED: "paying",
    Status.WITHDRAWN: "cancelled",
    Status.STOPPED: "unresolved",
    Status.DONE: "releasing",
    Status.RETURNED: "done",
}
_STATUS_VALUES = frozenset(s.value for s in Status)
_STATUS_BY_ENGLISH_NAME = {name: status for status, name in STATUS_ENGLISH_NAMES.items()}

TERMINAL_STATUSES = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.RETURNED})

# submitted < accepted < in processing (4, 5, 6 alternate freely) < result ready < closed
STATUS_STAGES: dict[Status, int] = {
    Status.SUBMITTED: 0,
    Status.ACCEPTED: 1,
    Status.PROCESSING: 2,
    Status.SUPPLEMENT_REQUIRED: 2,
    Status.PAYMENT_REQUIRED: 2,
    Status.DONE: 3,
    Status.REFUSED: 4,
    Status.WITHDRAWN: 4,
    Status.STOPPED: 4,
    Status.RETURNED: 4,
}


class Channel(IntEnum):
    """KenhThucHien: how the dossier was submitted."""

    IN_PERSON = 1  # Trực tiếp
    ONLINE = 2  # Trực tuyến
    POSTAL = 3  # Bưu chính công ích

    @property
    def label(self) -> str:
        return {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}[self.value]


class ApplicantType(IntEnum):
    """LoaiDoiTuong: who the applicant is."""

    CITIZEN = 1  # Công dân
    BUSINESS = 2  # Doanh nghiệp
    STATE_AGENCY = 3  # Cơ quan nhà nước
    OTHER_ORGANISATION = 4  # Tổ chức khác

    @property
    def label(self) -> str:
        return {1: "Công dân", 2: "Doanh nghiệp", 3: "Cơ quan nhà nước", 4: "Tổ chức khác"}[self.value]


class ReturnMethod(IntEnum):
    """HinhThuc: how the result reaches the applicant."""

    IN_PERSON = 0  # Trả trực tiếp
    BY_POST = 1  # Trả qua bưu chính

    @property
    def label(self) -> str:
        return {0: "Trả trực tiếp", 1: "Trả qua bưu chính"}[self.value]


class ServiceLevel(IntEnum):
    """Online service level kept by most systems: 4 fully online (toàn trình), 3 partly (một phần), 2 info."""

    INFORMATION = 2
    PARTLY_ONLINE = 3
    FULLY_ONLINE = 4
