"""Vietnamese names of the reports' columns and scopes, shared by the workbook, the CLI tables and the console."""

from __future__ import annotations

from typing import Final

from foundation.topology import Level

LEVELS: Final[dict[Level | None, str]] = {
    Level.PROVINCE: "Cấp tỉnh",
    Level.DISTRICT: "Cấp huyện",
    Level.COMMUNE: "Cấp xã",
    None: "Không rõ cấp",
}

# Indicator fields in the order a provincial report lists them, with their Vietnamese headers.
INDICATOR_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("received", "Tiếp nhận trong kỳ"),
    ("finished", "Đã giải quyết"),
    ("finished_early", "Trước hạn"),
    ("finished_on_time", "Đúng hạn"),
    ("finished_late", "Quá hạn"),
    ("open_on_time", "Đang giải quyết trong hạn"),
    ("open_late", "Đang giải quyết quá hạn"),
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
