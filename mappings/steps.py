"""Processing steps whose state is a task state (pending / doing / done), not a national status.

The canonical step needs a national status. A profile says where it comes from (``steps``): the vendor's step-state
table (``codes.step_state``, applied like every code table), or the dossier's status at the step's time, read from a
status history the profile's ``record.fields`` puts in the default record (``history``: its path there, each item
with ``TrangThai`` and ``ThoiDiem``, both converted like every other field). Pure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

STEPS = "DanhSachTienDo.TienDo"
STEP_STATUS = f"{STEPS}.TrangThai"


class StepStatus(BaseModel):
    """Where a step's national status comes from: ``table`` (``codes.step_state``) or ``history``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Literal["table", "history"]
    history: str | None = None

    @model_validator(mode="after")
    def _history_path(self) -> StepStatus:
        if self.source == "history" and not self.history:
            raise ValueError("steps.source history needs steps.history (the status history's path in the record)")
        if self.history and "." in self.history:
            raise ValueError("steps.history names a top-level field of the default record (LichSuTrangThai)")
        return self

    @property
    def history_status(self) -> str | None:
        return f"{self.history}.TrangThai" if self.source == "history" else None


def statuses_from_history(record: dict[str, Any], steps: StepStatus, items: Any) -> None:
    """Give every step of ``record`` (in place) the dossier's status at the step's time: the last history entry at
    or before it. A step before any entry, or without a readable time, keeps no status: the mapping names it."""
    history = sorted(
        ((h.get("ThoiDiem"), i, h.get("TrangThai")) for i, h in enumerate(_list(items)) if isinstance(h, dict)),
        key=lambda entry: (_sortable(entry[0]), entry[1]),
    )
    for step in _list(_at(record, STEPS)):
        if not isinstance(step, dict):
            continue
        when = step.get("ThoiDiem")
        found = None
        if isinstance(when, datetime):
            for at, _, status in history:
                if isinstance(at, datetime) and at <= when:
                    found = status
        step["TrangThai"] = found


def _sortable(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float("inf")


def _at(data: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(step)
    return data


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
