"""Code tables loaded once from ``codes.yaml``: every spelling a system sends for a status, channel, applicant
type, return method or service level, resolved to the enum of :mod:`mappings.codes`.

A lookup is one dictionary probe on the hot path (ints and exact strings); only unusual spellings pay for
trimming and lower-casing. An unknown code raises :class:`mappings.normalize.Invalid`.
"""

from __future__ import annotations

from enum import IntEnum
from functools import cache
from importlib import resources
from typing import Any, Final, Generic, TypeVar

import yaml

from mappings.codes import ApplicantType, Channel, ReturnMethod, ServiceLevel, Status
from mappings.normalize import Invalid

E = TypeVar("E", bound=IntEnum)


class CodeTable(Generic[E]):
    """One code table: numbers, their text forms and the aliases listed in the data file."""

    def __init__(self, enum: type[E], label_vi: str, label_en: str, aliases: dict[Any, list[str]]) -> None:
        self.enum = enum
        self.label_vi = label_vi
        self.label_en = label_en
        self._lookup: dict[object, E] = {}
        for member in enum:
            self._lookup[member.value] = member
            self._lookup[str(member.value)] = member
            self._lookup[member] = member
        for number, spellings in aliases.items():
            member = enum(int(number))
            for spelling in spellings:
                self._lookup[str(spelling).strip().lower()] = member

    def parse(self, raw: object) -> E:
        """The member ``raw`` names; :class:`Invalid` names the table and the value when there is none."""
        if raw is not True and raw is not False:
            try:
                return self._lookup[raw]
            except (KeyError, TypeError):
                pass
            if isinstance(raw, str):
                found = self._lookup.get(raw.strip().lower())
                if found is not None:
                    return found
        raise Invalid(f"{self.label_vi} không hợp lệ: {raw!r}", f"unknown {self.label_en}: {raw!r}")

    def parse_optional(self, raw: object) -> E | None:
        """Like :meth:`parse`, with None and "" meaning unknown."""
        if raw is None or raw == "":
            return None
        return self.parse(raw)


class Tables:
    """Every code table, built from the data file."""

    def __init__(self, data: dict[str, dict[Any, list[str]]]) -> None:
        status_aliases = {s.value: [s.english_name, *data.get("status", {}).get(s.value, [])] for s in Status}
        self.status: Final = CodeTable(Status, "mã trạng thái hồ sơ", "status code", status_aliases)
        self.channel: Final = CodeTable(Channel, "kênh thực hiện", "channel", data.get("channel", {}))
        self.applicant_type: Final = CodeTable(
            ApplicantType, "loại đối tượng", "applicant type", data.get("applicant_type", {})
        )
        self.return_method: Final = CodeTable(
            ReturnMethod, "hình thức trả kết quả", "return method", data.get("return_method", {})
        )
        self.service_level: Final = CodeTable(
            ServiceLevel, "mức độ dịch vụ", "service level", data.get("service_level", {})
        )


@cache
def tables() -> Tables:
    """The code tables, read from the packaged data file on first use."""
    raw = resources.files(__package__).joinpath("codes.yaml").read_text(encoding="utf-8")
    return Tables(yaml.safe_load(raw))
