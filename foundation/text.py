"""Text rules every folder applies the same way: Unicode NFC, trimmed, one-line names; agency identifiers; text a
spreadsheet must not take for a formula."""

from __future__ import annotations

import unicodedata
from typing import Final

# V1V2V3.Z1Z2.Y1Y2.Hnn: the agency identifier of Decision 20/2020/QĐ-TTg (units-and-codes.md).
AGENCY_ID_PATTERN: Final = r"\d{3}\.\d{2}\.\d{2}\.H\d{2}"


# C0 control characters and DEL, except tab and line breaks: no system means them, PostgreSQL refuses NUL in JSON,
# and a terminal that shows them can be steered by them.
_CONTROLS: Final = dict.fromkeys(c for c in [*range(32), 127] if chr(c) not in "\t\n\r")


# Text that the normalizers below would return unchanged, recognised by pydantic's own (Rust) regex so that the common
# case costs no Python call: letters, digits, punctuation and symbols of ASCII, Latin-1, Latin Extended-A/B and Latin
# Extended Additional (every precomposed Vietnamese letter), and general punctuation; none of them is whitespace, a
# control character, a combining mark or a character NFC changes or composes with what precedes it (tests check
# every code point). Anything else (a decomposed accent, outer or repeated whitespace, a control character, another
# script) takes the normalizer.
_CLEAN: Final = r"[!-~\u00a1-\u00ac\u00ae-\u024f\u1e00-\u1eff\u2010-\u2027\u2030-\u205e]"
CLEAN_TEXT_PATTERN: Final = rf"^(?:{_CLEAN}(?:[{_CLEAN[1:-1]} \t\n\r]*{_CLEAN})?)?$"
CLEAN_NAME_PATTERN: Final = rf"^(?:{_CLEAN}+(?: {_CLEAN}+)*)?$"


def normalize_text(value: str) -> str:
    """Unicode NFC (Vietnamese often arrives decomposed), control characters dropped, outer whitespace removed."""
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    if not value.isprintable():  # one C-speed scan; most values are printable and skip the translation
        value = value.translate(_CONTROLS)
    return value.strip()


def normalize_name(value: str) -> str:
    """NFC, and every run of whitespace inside a one-line value (names, titles) folded to one space."""
    return " ".join(normalize_text(value).split())


# A spreadsheet takes a cell that starts with one of these for a formula (a tab or CR can hide one behind it): OWASP's
# CSV-injection rule. A procedure name or an apology reason comes from other systems and may start with any of them.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """Whether a spreadsheet would read ``value`` as a formula rather than as the text it is."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def spreadsheet_text(value: str) -> str:
    """``value`` for a CSV cell a spreadsheet opens as text: an apostrophe before what would start a formula."""
    return "'" + value if looks_like_formula(value) else value


def from_spreadsheet_text(value: str) -> str:
    """The inverse of :func:`spreadsheet_text`, so that a CSV exported by the hub imports unchanged."""
    return value[1:] if value.startswith("'") and looks_like_formula(value[1:]) else value
