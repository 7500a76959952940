"""The console's message catalogues: Vietnamese first, English as an option chosen by a cookie."""

from __future__ import annotations

from typing import Final

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
    "confirm": ("Xác nhận", "Confirm"),
    "start": ("Bắt đầu", "Start"),
    "cancel": ("Hủy", "Cancel"),
    "progress": ("Tiến độ", "Progress"),
    "done": ("Xong", "Done"),
    "failed": ("Lỗi", "Failed"),
    "mode": ("Cách chạy", "Mode"),
    "local_code": ("Mã thủ tục địa phương", "Local procedure code"),
    "national_code": ("Mã TTHC quốc gia", "National code (MaTTHC)"),
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
}


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
