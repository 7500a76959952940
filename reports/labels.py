"""Vietnamese names of the reports' columns and scopes, and how their figures are written (vi_VN: ``57,1 %``,
``1.234``, "tính đến 17:00 ngày 31/10/2023"), shared by the workbook, the CLI tables, the console and the demo."""

from __future__ import annotations

from datetime import datetime, time
from typing import Final

from foundation import vocabulary
from foundation.clock import VN_TZ
from foundation.topology import Level
from foundation.vocabulary import Vocab

DASH: Final = vocabulary.DASH


def as_of_text(moment: datetime) -> str:
    """ "tính đến 17:00 ngày 31/10/2023" in Vietnam time; the end of a day is written 24:00 of it, as legal texts
    write a cut-off ("tính đến 24 giờ ngày ...")."""
    local = moment.astimezone(VN_TZ)
    clock = "24:00" if local.time().replace(tzinfo=None) >= time(23, 59, 59) else f"{local:%H:%M}"
    return f"tính đến {clock} ngày {local:%d/%m/%Y}"


def number(value: int | None) -> str:
    """A count with vi_VN digit grouping: 1.234."""
    return vocabulary.number(value)


def percent(value: float | None) -> str:
    """A rate (already in percent, one decimal) the vi_VN way: 57,1 %."""
    return DASH if value is None else vocabulary.percent(value / 100)


def share(value: float | None, part: int, whole: int) -> str:
    """A rate with its numerator and denominator beside it: 57,1 % (4/7)."""
    return f"{percent(value)} ({number(part)}/{number(whole)})"


def committee(unit: str) -> str:
    """The people's committee of a unit as documents name it: "UBND xã Tam Xuân II", "UBND tỉnh Quảng Nam"."""
    return f"UBND {unit[:1].lower()}{unit[1:]}"


def place_name(province: str) -> str:
    """The place written before a document's date: the province's or city's name without "Tỉnh" / "Thành phố"."""
    for prefix in ("Tỉnh ", "Thành phố "):
        if province.startswith(prefix):
            return province[len(prefix) :]
    return province


LEVELS: Final[dict[Level | None, str]] = {
    **{level: vocabulary.label(Vocab.LEVEL, level) for level in Level},
    None: "Không rõ cấp",
}

# Indicator fields in the order a provincial report lists them, with their Vietnamese headers.
INDICATOR_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("to_process", "Tổng số hồ sơ phải giải quyết"),
    ("carried_over", "Kỳ trước chuyển qua"),
    ("received", "Tiếp nhận mới trong kỳ"),
    ("solved", "Đã giải quyết"),
    ("finished_early", "Trước hạn"),
    ("finished_on_time", "Đúng hạn"),
    ("finished_late", "Quá hạn"),
    ("dropped", "Trả lại, rút, dừng xử lý"),
    ("in_progress", "Đang giải quyết"),
    ("open_on_time", "Đang giải quyết trong hạn"),
    ("open_late", "Đang giải quyết quá hạn"),
    ("finished_in_time", "Giải quyết trước và đúng hạn"),
    ("finished", "Giải quyết có kết quả"),
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
    ("online", "Hồ sơ trực tuyến"),
    ("online_rate", "Tỷ lệ trực tuyến (%)"),
    ("online_target", "Chỉ tiêu trực tuyến (%)"),
    ("fully_online_rate", "Trực tuyến toàn trình (%)"),
    ("partly_online_rate", "Trực tuyến một phần (%)"),
    ("online_procedures", "TTHC trực tuyến"),
    ("online_procedures_used", "TTHC trực tuyến có phát sinh"),
    ("online_procedures_used_rate", "Tỷ lệ phát sinh (%)"),
    ("fee_bearing", "Hồ sơ có phí, lệ phí"),
    ("paid_online", "Thanh toán trực tuyến"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến (%)"),
    ("digitisation_rate", "Tỷ lệ số hóa (%)"),
    ("reuse_rate", "Tỷ lệ tái sử dụng (%)"),
    ("electronic_result_rate", "Tỷ lệ kết quả điện tử (%)"),
    ("portal_expected", "Phải đồng bộ DVCQG"),
    ("portal_delivered", "Đã đồng bộ"),
    ("portal_current", "Đồng bộ mới nhất"),
    ("portal_stale", "Trạng thái cũ"),
    ("sync_coverage", "Tỷ lệ đồng bộ (%)"),
    ("portal_max_lag_hours", "Chậm nhất (giờ)"),
)

# What the timeliness figures mean, shown beside them (a tooltip on each header, a definitions section on the page).
INDICATOR_DEFINITIONS: Final[dict[str, str]] = {
    "to_process": "Kỳ trước chuyển qua + tiếp nhận mới trong kỳ = đã giải quyết + đang giải quyết.",
    "carried_over": "Hồ sơ tiếp nhận trước kỳ, chưa kết thúc khi kỳ bắt đầu.",
    "received": "Hồ sơ tiếp nhận trong kỳ (đến thời điểm tính số liệu).",
    "solved": "Hồ sơ kết thúc trong kỳ: có kết quả (trước hạn, đúng hạn, quá hạn) hoặc trả lại, rút, dừng xử lý.",
    "finished_late": "Có kết quả sau ngày hẹn trả lần đầu; văn bản xin lỗi, hẹn lại không làm hồ sơ thành đúng hạn.",
    "dropped": "Không được tiếp nhận, công dân rút hoặc dừng xử lý: kết thúc không có kết quả, không tính đúng hạn.",
    "in_progress": "Hồ sơ chưa kết thúc tại thời điểm tính số liệu.",
    "open_late": "Chưa kết thúc mà đã qua ngày hẹn trả lần đầu; không nằm trong tỷ lệ đúng hạn, nên nêu riêng.",
    "on_time_rate": "(Trước hạn + đúng hạn) / hồ sơ giải quyết có kết quả trong kỳ; tử số và mẫu số ghi bên cạnh.",
}

REGISTER_COLUMNS: Final[tuple[str, ...]] = (
    "Mã hồ sơ",
    "Đơn vị tiếp nhận",
    "Đơn vị (hiện hành)",
    "Thủ tục",
    "Hạn trả lần đầu",
    "Hạn trả hiện tại",
    "Ngày kết thúc",
    "Số ngày trễ",
    "Tình trạng",
    "Đơn vị, bước gây trễ",
    "Xin lỗi",
    "Vi phạm",
)

EXTENSION_COLUMNS: Final[tuple[str, ...]] = (
    "Mã hồ sơ",
    "Hạn trả cũ",
    "Hạn trả mới",
    "Ngày phát hành",
    "Đơn vị gây trễ",
    "Bước xử lý",
    "Lý do",
    "Đúng thời hạn",
)
