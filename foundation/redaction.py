"""The one module that decides what is personal data and hides it: in the store's redacted payloads, the integration
log, the connectors' recordings, the console and the logs.

What is personal is one list, :func:`personal_keys`: the canonical model's fields marked :data:`PERSONAL`
(declared by ``mappings.canonical``) and the wire names under which each system kind carries them (declared by the
kind's package, or by a vendor profile). A value under a personal key is replaced by :data:`REDACTED`; a value under
a credential key (:func:`is_secret_key`, whatever its case) is removed, wherever it appears. Free text that comes
from outside (a portal's refusal, a SOAP fault string) has no keys: :func:`mask_text` hides what looks personal in it
(citizen ID numbers, phone numbers, e-mail addresses, credentials echoed back) and the record's own personal values.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, Final

from lxml import etree
from pydantic import BaseModel


class _Personal:
    """Marker in a model field's metadata: the field holds personal data."""

    def __repr__(self) -> str:
        return "PERSONAL"


PERSONAL: Final = _Personal()
REDACTED: Final = "***"
REMOVED: Final = "[removed]"

# Names that hold credentials, in any system's records, headers, envelopes or log lines: removed wherever they
# appear, in any case (``Authorization``, ``authorization``, ``AUTHORIZATION``). Written in lower case.
SECRET_KEYS: Final = frozenset(
    {
        "password",
        "secret",
        "session",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "token",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "nonce",
        "security",
        "usernametoken",
    }
)


def is_secret_key(name: object) -> bool:
    """Whether a value under ``name`` (a dict key, a header, an XML element's local name) is a credential."""
    return isinstance(name, str) and name.casefold() in SECRET_KEYS


_lock = threading.Lock()
_personal: set[str] = set()
_frozen: frozenset[str] = frozenset()


def declare_personal(names: Iterable[str]) -> None:
    """Add field names (canonical or a system's wire names) to the one list of personal fields."""
    global _frozen
    with _lock:
        _personal.update(names)
        _frozen = frozenset(_personal)


def personal_keys() -> frozenset[str]:
    """Every field name known to hold personal data."""
    return _frozen


def redact_data(data: Any, *, personal: frozenset[str] | None = None) -> Any:
    """A copy of decoded JSON (or any nested dicts and lists) with personal values masked and credentials removed."""
    return _redact(data, personal_keys() if personal is None else personal)


def personal_strings(data: Any, *, personal: frozenset[str] | None = None) -> set[str]:
    """The text values under personal keys anywhere in decoded JSON (every record of a batch's request): what
    :func:`hiding` must hide from the lines logged about it."""
    keys = personal_keys() if personal is None else personal
    found: set[str] = set()
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in keys:
                found.update(_strings(value))
            else:
                found |= personal_strings(value, personal=keys)
    elif isinstance(data, list | tuple):
        for value in data:
            found |= personal_strings(value, personal=keys)
    return found


def _redact(data: Any, personal: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if is_secret_key(key):
                out[key] = REMOVED
            elif key in personal and value not in (None, "", [], {}):
                out[key] = REDACTED
            else:
                out[key] = _redact(value, personal)
        return out
    if isinstance(data, list | tuple):
        return [_redact(v, personal) for v in data]
    return data


def redact_envelope(envelope: etree._Element, *, personal: frozenset[str] | None = None) -> str:
    """An XML document as text with personal elements masked and credential elements (wsse:Security) removed."""
    hidden = personal_keys() if personal is None else personal
    copy = etree.fromstring(etree.tostring(envelope))
    for element in list(copy.iter()):
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if is_secret_key(name):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
        elif name in hidden:
            for child in list(element):
                element.remove(child)
            element.text = REDACTED
    return str(etree.tostring(copy, encoding="unicode"))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every literal secret value replaced (a password echoed in an error page, a token in a URL)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REMOVED)
    return text


# Credentials a remote may echo in its error text: an Authorization header's value, a bearer or basic token.
_CREDENTIAL_TEXT: Final = re.compile(r"\b(Basic|Bearer|Digest)\s+[A-Za-z0-9+/=._~-]{4,}", re.IGNORECASE)

# The patterns below run on the *folded* text (:func:`_fold`: compatibility-decomposed, accents and case dropped,
# đ as d), so a value rewritten in decomposed Unicode, in capitals or without its accents, or with a full-width ＠,
# is the same text to them; what they find is masked in the text as it was written.
# An e-mail address, its @ also written [at], (at) or {at}, its dots also [dot] or (dot), spaces around either.
_AT: Final = r"\s*(?:@|[\[({]\s*at\s*[\])}])\s*"
_DOT: Final = r"\s*(?:\.|[\[({]\s*dot\s*[\])}])\s*"
_EMAIL: Final = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)+")
# A run of digits that may be grouped by spaces, dots, dashes or brackets, with a leading + or bracket
# ("+84 (826) 268-534", "0905.123.456", "079 384 756 201"): a phone or ID number if its digits say so
# (:func:`_is_personal_number`). Never inside a dossier code (``000.01.17.H47-050101-0001``): that is no one's.
_NUMBER: Final = re.compile(r"(?<![\d+])[+(]*\d(?:[ .\-()+]{0,4}\d)*")
_DOSSIER_CODE: Final = re.compile(r"h\d{2}-\d{6}-\d{4}")
_DIGIT_GROUP: Final = re.compile(r"\d+")
# Shorter known values (a two-letter given name) would mask ordinary words.
_MIN_KNOWN = 4

_scope: ContextVar[frozenset[str]] = ContextVar("personal_values_in_scope", default=frozenset())


@contextmanager
def hiding(values: Iterable[str]) -> Iterator[None]:
    """Within the block, :func:`mask_text` also hides ``values`` (the personal values of every dossier being
    handled, a batch's included), so a log line masks them whoever writes it."""
    token = _scope.set(_scope.get() | frozenset(v for v in values if isinstance(v, str)))
    try:
        yield
    finally:
        _scope.reset(token)


def _is_personal_number(digits: str) -> bool:
    """A citizen ID (9-digit CMND, 12-digit CCCD) or a Vietnamese phone number (0, 84 or 0084 then 9-10 digits)."""
    if len(digits) in (9, 12):
        return True
    if digits.startswith("0084"):
        return len(digits) in (13, 14)
    if digits.startswith("84"):
        return len(digits) in (11, 12)
    return digits.startswith("0") and len(digits) in (10, 11)


@cache
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` folded for matching, and for each folded character the index of the character it came from."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        origin.extend([i] * len(folded))
    return "".join(parts), origin


@cache
def _known_pattern(value: str) -> str | None:
    """A folded pattern for a known value, its words separated by any short run of spaces or punctuation."""
    words = re.findall(r"\w+", _fold(unicodedata.normalize("NFC", value))[0])
    if sum(len(w) for w in words) < _MIN_KNOWN:
        return None
    return r"(?<!\w)" + r"\W{0,3}".join(re.escape(w) for w in words) + r"(?!\w)"


def _number_spans(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    """The parts of a digit run that are personal numbers: the whole run, or consecutive groups of it."""
    groups = [
        (g.start() + match.start(), g.end() + match.start(), g.group()) for g in _DIGIT_GROUP.finditer(match.group())
    ]
    i = 0
    while i < len(groups):
        for j in range(len(groups), i, -1):
            if _is_personal_number("".join(g[2] for g in groups[i:j])):
                start = match.start() if i == 0 else groups[i][0]
                yield start, groups[j - 1][1]
                i = j
                break
        else:
            i += 1


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with credentials removed and whatever looks personal masked: ``known`` values (the record's own
    personal values, and any in scope of :func:`hiding`), e-mail addresses, phone numbers and citizen ID numbers,
    each also when rewritten (decomposed Unicode, capitals, no accents, other grouping or spelling)."""
    text = _CREDENTIAL_TEXT.sub(lambda m: f"{m.group(1)} {REMOVED}", unicodedata.normalize("NFC", text))
    folded, origin = _fold(text)
    spans: list[tuple[int, int]] = []
    patterns = {p for v in (*known, *_scope.get()) if v and (p := _known_pattern(v.strip())) is not None}
    if patterns:
        known_re = re.compile("|".join(sorted(patterns, key=len, reverse=True)))
        spans += [m.span() for m in known_re.finditer(folded)]
    spans += [m.span() for m in _EMAIL.finditer(folded)]
    codes = [m.span() for m in _DOSSIER_CODE.finditer(folded)]
    for match in _NUMBER.finditer(folded):
        spans.extend(s for s in _number_spans(match) if not any(s[0] < end and start < s[1] for start, end in codes))
    if not spans:
        return text
    out: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        first, last = origin[start], origin[end - 1] + 1
        if last <= cursor:
            continue
        out.append(text[cursor : max(first, cursor)])
        if first >= cursor:
            out.append(REDACTED)
        cursor = last
    out.append(text[cursor:])
    return "".join(out)


def mask_data(data: Any, known: Iterable[str] = ()) -> Any:
    """A copy of decoded JSON with :func:`mask_text` applied to every string in it: for a redacted payload whose
    free-text fields (a portal's ``message``, a note) were not under a personal key."""
    values = tuple(known)
    if isinstance(data, str):
        return mask_text(data, values)
    if isinstance(data, Mapping):
        return {key: mask_data(value, values) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [mask_data(v, values) for v in data]
    return data


def personal_values(data: Any, model: type[BaseModel]) -> set[str]:
    """The text values under ``model``'s personal fields in ``data`` (a dumped model): what :func:`mask_text` must
    hide when the record's own data is echoed in a remote's text."""
    found: set[str] = set()
    if not isinstance(data, Mapping):
        return found
    hidden = personal_fields(model)
    for key, value in data.items():
        if key in hidden:
            found.update(_strings(value))
            continue
        nested = _nested_model(model, key)
        if nested is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            found |= personal_values(item, nested)
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


@cache
def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of ``model``'s fields marked :data:`PERSONAL` (optional or not)."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if PERSONAL in info.metadata
        or any(PERSONAL in getattr(t, "__metadata__", ()) for t in _walk_types(info.annotation))
    )


def redact_model(data: Any, model: type[BaseModel]) -> Any:
    """A copy of ``data`` (a model or its dumped dict) with every field marked personal replaced by ``***``."""
    if isinstance(data, BaseModel):
        model = type(data)
        data = data.model_dump(mode="json")
    return _redact_dict(data, model)


def _redact_dict(data: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    hidden = personal_fields(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in hidden and value is not None:
            out[key] = REDACTED
            continue
        nested = _nested_model(model, key)
        if nested is not None and isinstance(value, dict):
            out[key] = _redact_dict(value, nested)
        elif nested is not None and isinstance(value, list | tuple):
            out[key] = [_redact_dict(v, nested) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


def _nested_model(model: type[BaseModel], field: str) -> type[BaseModel] | None:
    info = model.model_fields.get(field)
    if info is None:
        return None
    for candidate in _walk_types(info.annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _walk_types(annotation: Any) -> Iterator[Any]:
    yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _walk_types(arg)
