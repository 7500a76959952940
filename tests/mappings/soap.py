"""Reads recorded SOAP responses the way the SOAP connector does: zeep's parse and ``serialize_object``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import zeep
import zeep.helpers
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
WSDL = ROOT / "simulators" / "contracts" / "motcua.wsdl"
NS = "urn:motcua:hoso:v1"


@cache
def client() -> zeep.Client:
    return zeep.Client(str(WSDL))  # type: ignore[no-untyped-call]


def record_from_envelope(xml: bytes) -> dict[str, Any]:
    """The ``HoSo`` of a recorded ``LayChiTietHoSoResponse`` envelope, as zeep hands it to the connector."""
    body = etree.fromstring(xml).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    assert body is not None
    response = body[0]
    element = client().get_element(f"{{{NS}}}LayChiTietHoSoResponse")  # type: ignore[no-untyped-call]
    parsed = element.parse(response, client().wsdl.types)
    return dict(zeep.helpers.serialize_object(parsed.HoSo, dict))  # type: ignore[no-untyped-call]


@cache
def vendor_client(wsdl: Path) -> zeep.Client:
    return zeep.Client(str(wsdl))  # type: ignore[no-untyped-call]


def vendor_reply(xml: bytes, wsdl: Path, operation: str) -> Any:
    """A recorded response envelope of another vendor's ``operation``, deserialised as the SOAP connector does."""
    client = vendor_client(wsdl)
    binding = next(iter(next(iter(client.wsdl.services.values())).ports.values())).binding
    reply = binding.get(operation).process_reply(etree.fromstring(xml))
    return zeep.helpers.serialize_object(reply, dict)  # type: ignore[no-untyped-call]
