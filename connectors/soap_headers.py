"""Custom SOAP headers a vendor profile asks for (``headers:``), e.g. an ASP.NET service's
``<AuthHeader xmlns="http://tempuri.org/"><Username/><Password/></AuthHeader>``, added to every request envelope by a
zeep plugin, beside or instead of WS-Security (``ws_security``). The recorder cuts these elements, as it cuts the
WS-Security header, before any envelope is kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree
from zeep import Plugin


class HeaderElement:
    """One header element and its children's texts (a password among them: never logged, never recorded)."""

    def __init__(self, element: str, namespace: str | None, values: Mapping[str, str]) -> None:
        self.element = element
        self.namespace = namespace
        self.values = dict(values)

    def build(self) -> etree._Element:
        qualify = (lambda name: f"{{{self.namespace}}}{name}") if self.namespace else (lambda name: name)
        node = etree.Element(qualify(self.element), nsmap={None: self.namespace} if self.namespace else None)
        for name, text in self.values.items():
            etree.SubElement(node, qualify(name)).text = text
        return node


class CustomHeaders(Plugin):
    """Puts the profile's header elements into each request's SOAP Header (SOAP 1.1 or 1.2, whichever zeep built)."""

    def __init__(self, headers: Sequence[HeaderElement]) -> None:
        self.headers = tuple(headers)

    def egress(self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        namespace = etree.QName(envelope).namespace
        header = envelope.find(f"{{{namespace}}}Header")
        if header is None:
            header = etree.Element(f"{{{namespace}}}Header")
            envelope.insert(0, header)
        for element in self.headers:
            header.append(element.build())
        return envelope, http_headers


def header_pattern(names: Sequence[str]) -> re.Pattern[bytes] | None:
    """What cuts the named header elements (any prefix) from a serialised envelope; None when there are none."""
    if not names:
        return None
    alternatives = b"|".join(re.escape(name.encode()) for name in names)
    return re.compile(rb"<(?:[\w.-]+:)?(" + alternatives + rb")\b[^>]*?(?:/>|>.*?</(?:[\w.-]+:)?\1>)", re.DOTALL)
