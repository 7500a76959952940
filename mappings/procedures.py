"""Procedure-code mapping, the pure side: a local procedure code → its national code (MaTTHC) and field.

:class:`ProcedureLookup` is what mappings ask; :class:`InMemoryProcedureLookup` answers from a dict or CSV text
(tests, fixtures, a file shipped with a deployment). The database-backed, versioned implementation lives in
:mod:`hub.procedures`; mappings never touch the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from foundation.text import from_spreadsheet_text, spreadsheet_text
from mappings.normalize import name, text

CSV_COLUMNS: Final = ("local_code", "national_code", "procedure_name", "field_code", "field_name")


@dataclass(frozen=True, slots=True)
class NationalProcedure:
    """What a local procedure code maps to on the national portal."""

    national_code: str  # MaTTHC
    field_code: str | None = None  # MaLinhVuc
    field_name: str | None = None  # TenLinhVuc
    procedure_name: str | None = None  # TenTTHC as the national catalogue names it


class ProcedureLookup(Protocol):
    """Answers: which national procedure does this one-stop-shop's local code stand for? None when unmapped."""

    def __call__(self, local_code: str) -> NationalProcedure | None: ...


class InMemoryProcedureLookup:
    """A lookup over a fixed table."""

    def __init__(self, table: Mapping[str, NationalProcedure]) -> None:
        self._table = dict(table)

    def __call__(self, local_code: str) -> NationalProcedure | None:
        return self._table.get(local_code)

    def __len__(self) -> int:
        return len(self._table)

    @classmethod
    def from_csv(cls, content: str) -> InMemoryProcedureLookup:
        """Read CSV text with the columns of :data:`CSV_COLUMNS` (a header row is required)."""
        rows, problems = parse_csv(content)
        if problems:
            raise ValueError("; ".join(problems))
        return cls({row.local_code: row.target for row in rows})


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One row of a procedure-mapping CSV file."""

    line: int
    local_code: str
    target: NationalProcedure


def parse_csv(content: str) -> tuple[list[MappingRow], list[str]]:
    """Rows of a mapping CSV and every problem found, each naming its line; the header names the columns."""
    content = content.lstrip("\ufeff")  # spreadsheets save UTF-8 with a byte-order mark
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in ("local_code", "national_code") if c not in (reader.fieldnames or ())]
    if missing:
        return [], [f"dòng 1: thiếu cột {', '.join(missing)} (header lacks {', '.join(missing)})"]
    rows: list[MappingRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, read in enumerate(reader, start=2):
        record = {k: from_spreadsheet_text(v) if isinstance(v, str) else v for k, v in read.items()}
        local = text(record.get("local_code"))
        national = text(record.get("national_code"))
        if local is None and national is None:
            continue
        if local is None or national is None:
            problems.append(
                f"dòng {number}: thiếu mã thủ tục địa phương hoặc mã TTHC quốc gia "
                f"(line {number}: local_code and national_code are both required)"
            )
            continue
        if local in seen:
            problems.append(
                f"dòng {number}: mã {local!r} đã có ở dòng {seen[local]} "
                f"(line {number}: {local!r} repeats line {seen[local]})"
            )
            continue
        seen[local] = number
        target = NationalProcedure(
            national_code=national,
            field_code=text(record.get("field_code")),
            field_name=name(record.get("field_name")),
            procedure_name=name(record.get("procedure_name")),
        )
        rows.append(MappingRow(number, local, target))
    return rows, problems


def to_csv(rows: Iterable[tuple[str, NationalProcedure]]) -> str:
    """CSV text with a header, one row per local code, in the order given; no cell opens as a formula."""
    out = io.StringIO()
    # CRLF, as RFC 4180 has it: the writer then quotes any field holding a CR or LF, which a spreadsheet would
    # otherwise take for a new row, whose first cell could start a formula.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for local_code, target in rows:
        cells = [local_code, target.national_code, target.procedure_name, target.field_code, target.field_name]
        writer.writerow([spreadsheet_text(cell or "") for cell in cells])
    return out.getvalue()
