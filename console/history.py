"""A dossier's history as an office reads it: the processing steps as a table, and each version's changes as
labelled fields (the DVCQG names beside the Vietnamese) with old and new values in Vietnam time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from console import i18n
from console.formatting import local_time, status_label
from foundation import vocabulary
from foundation.vocabulary import Vocab

# The source's revision counter changes with every version and is shown as the version itself, not as a change.
_UNSHOWN: Final = frozenset({"version"})
_SEGMENT: Final = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_ISO_TIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a version that changed: its label (the path in words), the old and the new value."""

    label: str
    path: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Step:
    """One row of "Quá trình xử lý"."""

    number: int
    content: str
    officer: str
    position: str
    unit_code: str | None
    department: str
    started: str
    ended: str
    due: str
    status: str
    late: bool


def field_label(path: str, lang: str) -> str:
    """``progress[3].handler`` as "Quá trình xử lý › mục 4 › Cán bộ xử lý (NguoiXuLy)"."""
    words = []
    for name, index in _SEGMENT.findall(path):
        if index:
            words.append(f"{i18n.text('item', lang)} {int(index) + 1}")
        else:
            words.append(vocabulary.label(Vocab.DOSSIER_FIELD, name, lang))
    return " › ".join(words) or path


def value_text(key: str, value: Any, lang: str) -> str:
    """A value as a reader wants it: times in Vietnam time, statuses by name, yes and no in words."""
    if value is None or value == "":
        return i18n.text("empty_value", lang)
    if key == "status" and isinstance(value, int) and not isinstance(value, bool):
        return status_label(value, lang)
    if isinstance(value, bool):
        return i18n.text("yes" if value else "no", lang)
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_time(moment, "%d/%m/%Y %H:%M") if moment.tzinfo is not None else f"{moment:%d/%m/%Y %H:%M}"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(key, v, lang) for v in value) or i18n.text("empty_value", lang)
    return str(value)


def _flatten(path: str, value: Any) -> list[tuple[str, Any]]:
    """A whole record added or removed (a new processing step) as one line per field it has."""
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _flatten(f"{path}.{k}", v)]
    return [(path, value)]


def field_changes(changes: list[Any], lang: str) -> list[FieldChange]:
    """A version's changes (``console.queries.Change``) as labelled fields with readable values."""
    shown: list[FieldChange] = []
    for change in changes:
        if change.path in _UNSHOWN:
            continue
        if isinstance(change.new, dict) or isinstance(change.old, dict):
            old = dict(_flatten(change.path, change.old)) if isinstance(change.old, dict) else {}
            new = dict(_flatten(change.path, change.new)) if isinstance(change.new, dict) else {}
            pairs = [(p, old.get(p), new.get(p)) for p in dict.fromkeys([*old, *new]) if old.get(p) != new.get(p)]
        else:
            pairs = [(change.path, change.old, change.new)]
        for path, before, after in pairs:
            key = _SEGMENT.findall(path)[-1][0] if _SEGMENT.findall(path) else path
            shown.append(
                FieldChange(field_label(path, lang), path, value_text(key, before, lang), value_text(key, after, lang))
            )
    return shown


def steps(data: dict[str, Any] | None, lang: str) -> list[Step]:
    """The dossier's processing steps ("Quá trình xử lý"), in the order the source recorded them."""
    rows = []
    for number, entry in enumerate((data or {}).get("progress") or [], start=1):
        due, ended = entry.get("step_due_at"), entry.get("at")
        ended_at, due_at = _instant(ended), _instant(due)
        rows.append(
            Step(
                number=number,
                content=str(entry.get("content") or ""),
                officer=str(entry.get("handler") or "—"),
                position=str(entry.get("title") or "—"),
                unit_code=entry.get("unit_code"),
                department=str(entry.get("department") or ""),
                started=_when(entry.get("step_started_at"), lang),
                ended=_when(ended, lang),
                due=_when(due, lang),
                status=status_label(entry.get("status"), lang),
                late=ended_at is not None and due_at is not None and ended_at > due_at,
            )
        )
    return rows


def _when(value: Any, lang: str) -> str:
    return value_text("at", value, lang) if value else "—"


def _instant(value: Any) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None
