"""How the console shows values, in its pages and its commands alike: local time, durations, statuses, JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from foundation import vocabulary
from foundation.clock import VN_TZ
from mappings.codes import Status


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored (UTC) time as Vietnamese local time."""
    return value.astimezone(VN_TZ).strftime(fmt) if value is not None else "—"


def duration(seconds: float | None) -> str:
    """A wait or a lag in Vietnamese words: "45 giây", "12 phút", "3 giờ 05", "1.159 ngày"."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} giây"
    if seconds < 7200:
        return f"{seconds // 60} phút"
    if seconds < 172800:
        return f"{seconds // 3600} giờ {seconds % 3600 // 60:02d}"
    return f"{vocabulary.number(seconds // 86400)} ngày"


def status_label(code: int | None, lang: str) -> str:
    if code is None:
        return "—"
    try:
        status = Status(code)
    except ValueError:
        return str(code)
    return f"{code} · {status.english_name if lang == 'en' else status.label}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str)
