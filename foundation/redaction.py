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
from collections.abc import Iterable, Iterator, Mapping
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
_EMAIL: Final = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Vietnamese phone numbers: 0 or +84/84 then 9 or 10 digits, optionally grouped by spaces, dots or dashes
# ("0905 123 456", "+84.905.123.456"). A 12-digit CCCD starting with 0 may match here first: masked either way.
_PHONE: Final = re.compile(r"(?<![\d+])(?:\+84|0084|84|0)(?:[ .-]?\d){8,10}(?!\d)")
# Citizen ID numbers: 9 digits (CMND) or 12 digits (CCCD), standing alone.
_ID_NUMBER: Final = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")
# Shorter known values (a two-letter given name) would mask ordinary words.
_MIN_KNOWN = 4


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with credentials removed and whatever looks personal masked: ``known`` values (the record's own
    personal values, matched case-insensitively), e-mail addresses, phone numbers and citizen ID numbers."""
    text = _CREDENTIAL_TEXT.sub(lambda m: f"{m.group(1)} {REMOVED}", text)
    values = sorted({v.strip() for v in known if v and len(v.strip()) >= _MIN_KNOWN}, key=len, reverse=True)
    if values:
        text = re.sub("|".join(re.escape(v) for v in values), REDACTED, text, flags=re.IGNORECASE)
    for pattern in (_EMAIL, _PHONE, _ID_NUMBER):
        text = pattern.sub(REDACTED, text)
    return text


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
