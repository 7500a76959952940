"""What a profile's ``record.fields`` may say besides a vendor path: a constant for a field the vendor does not have
(``LoaiDoiTuong: {const: "1"}``) or a default for one it leaves out (``{path: loaiDoiTuong, default: "1"}``).

Pure: a value is read from the vendor's record, or given, before converters and code tables see it, so a constant is
written in the same spellings a vendor value would be.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class FieldValue(BaseModel):
    """One default-record field read from ``path`` (None: the vendor has no such field) with a fallback.

    ``const``: always this value (the vendor has nothing for it); ``default``: this value when ``path`` is absent or
    empty in the vendor's record. Exactly one of them, and ``path`` only with ``default``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str | None = None
    const: Any = None
    default: Any = None

    @model_validator(mode="after")
    def _one_fallback(self) -> FieldValue:
        if (self.const is None) == (self.default is None):
            raise ValueError("a record value needs exactly one of const or default")
        if self.const is not None and self.path is not None:
            raise ValueError("a const takes no path (the vendor has no such field); use default with a path")
        return self

    def pick(self, found: Any) -> Any:
        """The default record's value, given what the vendor's record holds at ``path`` (None when nothing)."""
        if self.const is not None:
            return self.const
        return self.default if found is None or found == "" else found
