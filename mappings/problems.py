"""Turning normaliser failures and pydantic's errors into :class:`hub.errors.Problem` lists at source paths.

A source mapping gives each canonical location the path of the source element it came from
(``ChuHoSo.SoDienThoai``, ``DanhSachTepDinhKem.TepDinhKem[2].Id``) through a :class:`PathMap`, so an
administrator reads the vendor's own names; personal values are redacted before they reach a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from foundation.errors import Problem
from foundation.redaction import REDACTED, personal_fields
from mappings.canonical import Dossier
from mappings.errors import ValidationFailed
from mappings.normalize import Invalid

T = TypeVar("T")
SHOWN_MAX: Final = 120  # how much of an offending value a message repeats


@dataclass(frozen=True)
class PathMap:
    """How one canonical model's fields are named at the source: ``fields`` maps a field to its element path,
    ``nested`` maps a field holding a model (or a list of them) to that model's own PathMap."""

    model: type[BaseModel]
    fields: dict[str, str]
    nested: dict[str, PathMap] = field(default_factory=dict)


class Problems:
    """Collects the problems of one record; the normalising helpers return None after recording a failure."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def run(self, normaliser: Callable[[Any], T], value: Any, path: str, *, personal: bool = False) -> T | None:
        """``normaliser(value)``, or None with a problem recorded at ``path`` when the value is refused."""
        try:
            return normaliser(value)
        except Invalid as exc:
            self.items.append(Problem(path, exc.message_vi, exc.message_en, shown(value, personal)))
            return None

    def add_pydantic(self, exc: ValidationError, paths: PathMap) -> None:
        """Every error pydantic found, at its source path, skipping paths a normaliser already reported."""
        reported = {p.path for p in self.items}
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            if _FAST_BRANCH in loc:
                continue  # a normalized text's fast path failed; its normalizer branch says why (the error after)
            loc = tuple(part for part in loc if not (isinstance(part, str) and part.startswith(_SLOW_BRANCH)))
            error = {**error, "loc": loc}
            path, personal = source_path(loc, paths)
            if path in reported:
                continue
            reported.add(path)
            if error["type"] != "missing" and error.get("input", "") is None:
                # sources send None for an absent element: to the administrator it is simply missing
                error = {**error, "type": "missing", "msg": "Field required"}
            message_vi, message_en = _messages(error)
            value = None if error["type"] == "missing" else shown(error.get("input"), personal)
            canonical = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])[1:]
            self.items.append(Problem(path, message_vi, message_en, value, canonical))


# The two branches of a normalized text (mappings.canonical.Text, Name): pydantic names them in an error's location.
_FAST_BRANCH: Final = "constrained-str"
_SLOW_BRANCH: Final = "function-after["


def shown(value: Any, personal: bool) -> str | None:
    """How a refused value appears in a message: redacted when personal, shortened when long."""
    if value is None:
        return None
    if personal:
        return REDACTED
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def source_path(loc: tuple[int | str, ...], paths: PathMap) -> tuple[str, bool]:
    """The source path of a canonical error location, and whether the field holds personal data."""
    out = ""
    current: PathMap | None = paths
    personal = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        if current is None:
            break  # a location inside a scalar (a union branch's tag): the field's path is enough
        name = current.fields.get(part)
        if name is None:
            out += ("." if out else "") + part
            current = None
            continue
        out += ("." if out else "") + name
        personal = part in personal_fields(current.model)
        current = current.nested.get(part)
    return out or "(hồ sơ)", personal


_VI_BY_TYPE: Final[dict[str, str]] = {
    "missing": "thiếu trường bắt buộc",
    "string_type": "phải là chuỗi ký tự",
    "string_too_short": "không được để trống",
    "string_pattern_mismatch": "sai định dạng",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "decimal_parsing": "phải là số",
    "decimal_type": "phải là số",
    "bool_type": "phải là giá trị đúng/sai",
    "bool_parsing": "phải là giá trị đúng/sai",
    "datetime_type": "phải là ngày giờ",
    "datetime_parsing": "ngày giờ sai định dạng",
    "timezone_aware": "ngày giờ thiếu múi giờ",
    "enum": "giá trị không có trong danh mục",
    "model_type": "phải là một bản ghi",
    "dict_type": "phải là một bản ghi",
    "list_type": "phải là một danh sách",
    "tuple_type": "phải là một danh sách",
    "extra_forbidden": "trường không được phép",
}
_SPLIT: Final = re.compile(r"^(?P<vi>.+?) \((?P<en>[^()]+)\)$", re.DOTALL)


def _messages(error: Any) -> tuple[str, str]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        # the canonical model's own checks speak "Vietnamese (English)"
        raw = str(ctx.get("error", error["msg"]))
        match = _SPLIT.match(raw)
        return (match["vi"], match["en"]) if match else (raw, raw)
    if kind == "string_too_long":
        return f"dài quá {ctx.get('max_length')} ký tự", str(error["msg"])
    if kind in ("greater_than_equal", "greater_than"):
        return f"phải lớn hơn hoặc bằng {ctx.get('ge', ctx.get('gt'))}", str(error["msg"])
    if kind in ("less_than_equal", "less_than"):
        return f"phải nhỏ hơn hoặc bằng {ctx.get('le', ctx.get('lt'))}", str(error["msg"])
    return _VI_BY_TYPE.get(kind, "giá trị không hợp lệ"), str(error["msg"])


def validate_dossier(data: dict[str, Any], problems: Problems, paths: PathMap, dossier_code: str | None) -> Dossier:
    """Validate canonical data; every problem (the normalisers' and pydantic's) in one ValidationFailed."""
    try:
        dossier = Dossier.model_validate(data)
    except ValidationError as exc:
        problems.add_pydantic(exc, paths)
        raise ValidationFailed(problems.items, dossier_code=dossier_code) from None
    if problems.items:
        raise ValidationFailed(problems.items, dossier_code=dossier_code)
    return dossier
