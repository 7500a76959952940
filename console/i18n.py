"""The console's message catalogues: Vietnamese first, English as an option chosen by a cookie."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

LANGUAGES: Final = ("vi", "en")
DEFAULT: Final = "vi"
COOKIE: Final = "dvc_lang"

# One entry per text: (Vietnamese, English). Kept as data so a translator edits one table.
_TEXTS: Final[dict[str, tuple[str, str]]] = {
    "app": ("Bảng điều khiển liên thông DVC", "DVC integration console"),
    "dashboard": ("Tổng quan", "Dashboard"),
    "search": ("Tra cứu", "Search"),
    "replay_jobs": ("Chạy lại hàng loạt", "Replay jobs"),
    "mappings": ("Ánh xạ thủ tục", "Procedure mappings"),
    "operations": ("Vận hành", "Operations"),
    "incidents": ("Cảnh báo", "Alerts"),
    "audit": ("Nhật ký thao tác", "Audit log"),
    "users": ("Người dùng", "Users"),
    "logout": ("Đăng xuất", "Log out"),
    "login": ("Đăng nhập", "Log in"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "login_failed": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong username or password"),
    "login_wait": (
        "Đăng nhập sai quá nhiều lần: hãy thử lại sau {seconds} giây hoặc nhờ quản trị viên mở khóa",
        "Too many failed sign-ins: try again in {seconds} s or ask an administrator to lift the lockout",
    ),
    "totp": ("Mã xác thực (nếu có)", "Authenticator code (if set)"),
    "lockouts": ("Khóa đăng nhập", "Sign-in lockouts"),
    "lockout_kind": ("Loại", "Kind"),
    "failures": ("Số lần sai", "Failures"),
    "blocked_until": ("Khóa đến", "Blocked until"),
    "lift": ("Mở khóa", "Lift"),
    "no_lockouts": ("Không có khóa nào", "No lockouts"),
    "role": ("Vai trò", "Role"),
    "dossier_code": ("Mã hồ sơ", "Dossier code"),
    "unit": ("Đơn vị", "Unit"),
    "procedure": ("Thủ tục", "Procedure"),
    "target": ("Đích", "Target"),
    "state": ("Trạng thái", "State"),
    "error_class": ("Loại lỗi", "Error class"),
    "error": ("Lỗi", "Error"),
    "since": ("Từ", "From"),
    "until": ("Đến", "To"),
    "any": ("(tất cả)", "(any)"),
    "find": ("Tìm", "Find"),
    "no_results": ("Không có bản ghi nào", "Nothing found"),
    "older": ("Cũ hơn →", "Older →"),
    "newest": ("← Mới nhất", "← Newest"),
    "kind": ("Loại", "Kind"),
    "created": ("Tạo lúc", "Created"),
    "attempts": ("Lần thử", "Attempts"),
    "timeline": ("Dòng thời gian hồ sơ", "Dossier timeline"),
    "not_found": ("Không tìm thấy hồ sơ", "Dossier not found"),
    "versions": ("Các phiên bản", "Versions"),
    "changes": ("Thay đổi", "Changes"),
    "messages": ("Thông điệp", "Messages"),
    "payload": ("Dữ liệu gửi", "Payload"),
    "request": ("Yêu cầu", "Request"),
    "response": ("Phản hồi", "Response"),
    "replay": ("Chạy lại", "Replay"),
    "replay_fresh": ("Chạy lại (lấy mới từ nguồn)", "Replay (fresh from source)"),
    "replayed": ("Đã tạo thông điệp chạy lại", "Replay message created"),
    "redacted_note": (
        "Dữ liệu cá nhân đã được ẩn với vai trò xem",
        "Personal data is hidden for the viewer role",
    ),
    "per_minute": ("Thông điệp mỗi phút (60 phút qua)", "Messages per minute (last 60 minutes)"),
    "failure_rate": ("Tỷ lệ lỗi", "Failure rate"),
    "total": ("Tổng", "Total"),
    "backlog": ("Tồn đọng", "Backlog"),
    "oldest_waiting": ("Chờ lâu nhất", "Oldest waiting"),
    "parked": ("Bị dừng chờ xử lý", "Parked"),
    "parked_by_error": ("Thông điệp bị dừng theo lỗi", "Parked messages by error"),
    "circuit": ("Cầu dao", "Circuit"),
    "last_success": ("Thành công gần nhất", "Last success"),
    "error_rate": ("Tỷ lệ lỗi 15 phút", "Error rate (15 min)"),
    "sync_lag": ("Độ trễ đồng bộ theo đơn vị", "Sync lag per unit"),
    "level": ("Cấp", "Level"),
    "lag": ("Độ trễ", "Lag"),
    "late_dossiers": ("Hồ sơ trễ hạn", "Late dossiers"),
    "days_late": ("Trễ nhiều nhất (ngày)", "Worst (days)"),
    "targets": ("Các đích nhận", "Targets"),
    "schedules": ("Lịch chạy", "Schedules"),
    "paused": ("Đang tạm dừng", "Paused"),
    "running": ("Đang chạy", "Running"),
    "pause": ("Tạm dừng", "Pause"),
    "resume": ("Tiếp tục", "Resume"),
    "reason": ("Lý do", "Reason"),
    "last_run": ("Lần chạy gần nhất", "Last run"),
    "next_run": ("Lần chạy kế tiếp", "Next run"),
    "outcome": ("Kết quả", "Outcome"),
    "open_incidents": ("Cảnh báo đang mở", "Open alerts"),
    "opened": ("Mở lúc", "Opened"),
    "closed": ("Đóng lúc", "Closed"),
    "summary": ("Nội dung", "Summary"),
    "nothing_open": ("Không có cảnh báo nào", "No open alerts"),
    "at": ("Thời điểm", "At"),
    "action": ("Thao tác", "Action"),
    "subject": ("Đối tượng", "Subject"),
    "details": ("Chi tiết", "Details"),
    "client": ("Máy trạm", "Client"),
    "dry_run": ("Đếm thử", "Dry-run count"),
    "would_replay": ("Sẽ chạy lại {n} thông điệp. Xác nhận?", "{n} messages would be replayed. Confirm?"),
    "park_again": (
        "{n} sẽ dừng lại vì thủ tục vẫn chưa có mã TTHC quốc gia",
        "{n} will park again: their procedures still have no national code",
    ),
    "confirm": ("Xác nhận", "Confirm"),
    "start": ("Bắt đầu", "Start"),
    "cancel": ("Hủy", "Cancel"),
    "progress": ("Tiến độ", "Progress"),
    "done": ("Xong", "Done"),
    "failed": ("Lỗi", "Failed"),
    "mode": ("Cách chạy", "Mode"),
    "local_code": ("Mã thủ tục địa phương", "Local procedure code"),
    "national_code": ("Mã TTHC quốc gia", "National procedure code"),
    "procedure_name": ("Tên thủ tục", "Procedure name"),
    "field_code": ("Mã lĩnh vực", "Field code"),
    "save": ("Lưu", "Save"),
    "save_and_replay": ("Lưu và chạy lại các hồ sơ bị dừng", "Save and replay parked dossiers"),
    "missing_mappings": (
        "Thủ tục thiếu mã quốc gia (đang có hồ sơ bị dừng)",
        "Procedures missing a national code (with parked dossiers)",
    ),
    "history": ("Lịch sử", "History"),
    "version": ("Phiên bản", "Version"),
    "by": ("Bởi", "By"),
    "import_csv": ("Nhập CSV", "Import CSV"),
    "export_csv": ("Xuất CSV", "Export CSV"),
    "create_user": ("Tạo người dùng", "Create user"),
    "disable": ("Khóa", "Disable"),
    "enable": ("Mở khóa", "Enable"),
    "disabled": ("Đã khóa", "Disabled"),
    "forbidden": ("Bạn không có quyền thực hiện thao tác này", "You are not allowed to do this"),
    "csrf_failed": (
        "Phiên biểu mẫu đã hết hạn, vui lòng tải lại trang",
        "The form has expired, reload the page",
    ),
    "unavailable": (
        "Chức năng này chưa sẵn sàng trên máy chủ",
        "This function is not available on this server",
    ),
    "evaluate_alerts": ("Kiểm tra cảnh báo ngay", "Evaluate alerts now"),
    "recent_incidents": ("Cảnh báo gần đây", "Recent alerts"),
    "language": ("English", "Tiếng Việt"),
    "status": ("Trạng thái hồ sơ", "Dossier status"),
    "appointment": ("Hẹn trả", "Appointment"),
    "received": ("Tiếp nhận", "Received"),
    "health": ("Tình trạng kết nối", "Connector health"),
    "none": ("—", "—"),
    "late_register": ("Hồ sơ trễ hạn", "Late dossiers"),
    "indicators": ("Chỉ số", "Indicators"),
    "reconciliation": ("Đối soát", "Reconciliation"),
    "late_rule": (
        "Trễ hạn so với hạn trả lần đầu (văn bản xin lỗi không làm hồ sơ thành đúng hạn)",
        "Late against the first appointment (an apology does not make a dossier on time)",
    ),
    "late_count": ("hồ sơ trễ hạn", "late dossiers"),
    "definitions": ("Cách tính", "Definitions"),
    "period": ("Kỳ", "Period"),
    "late_open": ("Đang giải quyết", "Open"),
    "late_finished": ("Đã giải quyết", "Finished"),
    "apologised": ("Xin lỗi, hẹn lại", "Apology"),
    "yes": ("Có", "Yes"),
    "no": ("Không", "No"),
    "breaches_only": ("Chỉ vi phạm", "Breaches only"),
    "first_appointment": ("Hạn trả lần đầu", "First appointment"),
    "current_appointment": ("Hạn trả hiện tại", "Current appointment"),
    "finished_on": ("Ngày kết thúc", "Finished"),
    "late_days": ("Số ngày trễ", "Days late"),
    "reconciliation_rule": (
        "So sánh hồ sơ của hệ thống một cửa (danh sách thay đổi) với Cổng DVCQG (tra cứu), qua các bộ kết nối; "
        "chạy bằng lệnh dvc-hub reconcile hoặc theo lịch.",
        "Compares the one-stop-shop's dossiers (change feed) with the national portal (look-up), through the "
        "connectors; run by dvc-hub reconcile or on schedule.",
    ),
    "nothing_to_repair": ("Không có hồ sơ thiếu hoặc lệch để gửi lại", "Nothing missing or mismatched to resend"),
    "at_source": ("hồ sơ ở nguồn", "at the source"),
    "looked_up": ("đã tra cứu", "looked up"),
    "diff_missing": ("thiếu trên DVCQG", "missing at the portal"),
    "diff_mismatched": ("lệch trạng thái", "status mismatched"),
    "diff_stale": ("hub chưa cập nhật", "hub behind"),
    "diff_extra": ("nguồn không còn liệt kê", "no longer listed by the source"),
    "difference": ("Khác biệt", "Difference"),
    "source_status": ("Trạng thái ở nguồn", "Status at source"),
    "portal_status": ("Trạng thái trên DVCQG", "Status at the portal"),
    "make_replay_job": ("Tạo lệnh gửi lại các hồ sơ thiếu, lệch", "Make a replay job of the missing and mismatched"),
    "delay_at": ("Đơn vị, bước gây trễ", "Delay made at"),
    "breach": ("Vi phạm", "Breach"),
    "received_by": ("tiếp nhận:", "received by"),
    "late_without_apology": ("Trễ hạn chưa xin lỗi", "Late without apology"),
    "apology_after_deadline": ("Xin lỗi sau thời hạn", "Apology after the deadline"),
    "workbook": ("Tải báo cáo Excel", "Download the Excel workbook"),
    "online_rate": ("Tỷ lệ trực tuyến (%)", "Online rate (%)"),
    "on_time_rate": ("Tỷ lệ đúng hạn (%)", "On-time rate (%)"),
    "sync_coverage": ("Tỷ lệ đồng bộ DVCQG (%)", "DVCQG sync coverage (%)"),
}


# What a refused input value must be, by pydantic's error type, in Vietnamese; pydantic's English follows in brackets.
_INVALID: Final[dict[str, str]] = {
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "less_than": "phải nhỏ hơn {lt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}",
    "greater_than": "phải lớn hơn {gt}",
    "int_parsing": "phải là số nguyên",
    "string_too_long": "dài quá {max_length} ký tự",
    "string_too_short": "cần ít nhất {min_length} ký tự",
    "string_pattern_mismatch": "không đúng dạng",
    "missing": "bị thiếu",
    "literal_error": "phải là một trong {expected}",
}


def invalid_input(error: Mapping[str, Any]) -> str:
    """One line for a refused request value (a pydantic error): the field, what is wrong in Vietnamese, then the
    English original, e.g. ``run_id: giá trị không hợp lệ, phải nhỏ hơn hoặc bằng 4611686018427387904 (...)``."""
    field = ".".join(str(part) for part in error.get("loc", ())[1:]) or "?"
    rule = _INVALID.get(str(error.get("type")), "")
    if rule:
        try:
            rule = ", " + rule.format(**error.get("ctx", {}))
        except (KeyError, IndexError):
            rule = ""
    return f"{field}: giá trị không hợp lệ{rule} ({error.get('msg', 'invalid')})"


def text(key: str, lang: str) -> str:
    """The text for ``key`` in ``lang``; an unknown key shows itself so a missing entry is visible, not fatal."""
    pair = _TEXTS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def keys() -> frozenset[str]:
    return frozenset(_TEXTS)
