"""Helpers for the connector tests: the contract WSDL, SOAP envelopes, connectors wired to ``responses``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from connectors.http import Endpoint, Timeouts
from connectors.recording import ExchangeLog
from connectors.soap import forget_wsdl_documents
from foundation.credentials import Credentials
from systems import fake, registry

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_WSDL = ROOT / "simulators" / "contracts" / "motcua.wsdl"
FIXTURES = ROOT / "tests" / "fixtures" / "connectors"
SOAP_URL = "http://motcua.test/motcua"
PORTAL_URL = "http://portal.test/dvcqg"
CREDS = Credentials("hub", SecretStr("hub-secret-password"))


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"{body}</soap:Body></soap:Envelope>"
    )


def fault(code: str, message: str, detail_code: str | None = None, *, empty_detail: bool = False) -> str:
    """A SOAP 1.1 fault; ``empty_detail`` gives ``<detail />`` as ASP.NET services send it."""
    detail = (
        f'<detail><LoiNghiepVu xmlns="urn:motcua:hoso:v1"><MaLoi>{detail_code}</MaLoi>'
        f"<MoTa>{message}</MoTa></LoiNghiepVu></detail>"
        if detail_code
        else "<detail />"
        if empty_detail
        else ""
    )
    return envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{message}</faultstring>{detail}</soap:Fault>"
    )


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    registry.reset()
    fake.forget()
    forget_wsdl_documents()
    yield
    registry.reset()
    fake.forget()


@pytest.fixture
def exchanges() -> ExchangeLog:
    return ExchangeLog()


def endpoint(url: str, log: ExchangeLog, *, read: float = 5.0) -> Endpoint:
    return Endpoint("test", requests.Session(), base_url=url, timeouts=Timeouts(1.0, read), recorder=log)
