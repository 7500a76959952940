"""How the console shows values, in its pages and its commands alike: local time, durations, statuses, JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from foundation.clock import VN_TZ
from mappings.codes import Status


def local_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored (UTC) time as Vietnamese local time."""
    return value.astimezone(VN_TZ).strftime(fmt) if value is not None else "—"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 86400}d"


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
