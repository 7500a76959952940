"""Records a vendor returns as text inside its answer (``<GetDossierResult>&lt;HoSo&gt;…``, a JSON string): parsed
with the same hardening as every answer — no DTD, no entities, no network, a size cap — into the nested mappings a
profile's paths read (XML: local element names, a repeated element becomes a list, attributes are not read).
"""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

# The same hardening as connectors.soap's parsers; a declared DTD is refused after parsing (lxml keeps it inert).
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_blank_text=True
)


class UnreadableText(ValueError):
    """Raised when a record in a string cannot be read: not XML/JSON, a DTD or entity, or over the size cap."""


def parse_xml_text(text: str, *, max_bytes: int) -> dict[str, Any]:
    """The record an XML string holds: its root's children as a mapping."""
    data = text.encode("utf-8")
    if len(data) > max_bytes:
        raise UnreadableText(f"chuỗi XML {len(data)} byte, giới hạn {max_bytes} (the XML string is over the cap)")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise UnreadableText("chuỗi XML khai báo DTD/ENTITY (the XML string declares a DTD or entities)")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnreadableText(f"chuỗi XML không đọc được (malformed XML string): {exc.msg}") from None
    value = element_value(root)
    return value if isinstance(value, dict) else {}


def parse_json_text(text: str, *, max_bytes: int) -> Any:
    """The record a JSON string holds."""
    if len(text.encode("utf-8")) > max_bytes:
        raise UnreadableText(f"chuỗi JSON quá {max_bytes} byte (the JSON string is over the cap)")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UnreadableText(f"chuỗi JSON không đọc được (malformed JSON string): {exc}") from None


def element_value(element: etree._Element) -> Any:
    """An element as data: its text when it has no child elements (None when empty), else its children by local name,
    a repeated name as a list."""
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        text = element.text
        return None if text is None or text == "" else text
    out: dict[str, Any] = {}
    for child in children:
        name = etree.QName(child).localname
        value = element_value(child)
        if name in out:
            existing = out[name]
            out[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[name] = value
    return out
