"""The console's words, read from the one vocabulary (:mod:`foundation.vocabulary`, gettext catalogues):
Vietnamese first, English as an option chosen by a cookie."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from foundation import vocabulary
from foundation.vocabulary import DEFAULT, LANGUAGES, Vocab

__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "invalid_input", "keys", "language", "text"]

COOKIE: Final = "dvc_lang"

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
    return vocabulary.label(Vocab.CONSOLE, key, lang)


def language(value: str | None) -> str:
    return vocabulary.language(value)


def keys() -> frozenset[str]:
    return vocabulary.codes(Vocab.CONSOLE)
