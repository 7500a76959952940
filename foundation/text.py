"""Text rules every folder applies the same way: Unicode NFC, trimmed, one-line names; agency identifiers."""

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
