"""A remote's error page is kept as the words a person reads on it, never its style sheet (issue 29 point 7)."""

from __future__ import annotations

import pytest
import responses

from connectors.errors import Bounds, RemoteUnavailable, readable_text
from connectors.recording import ExchangeLog
from mappings.vendors import profile
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS, FIXTURES, SOAP_URL, endpoint

IIS_PAGE = (FIXTURES / "iis-server-error.html").read_text(encoding="utf-8")
IIS_TEXT = (
    "Runtime Error: Server Error in '/' Application. Runtime Error Description: An application error occurred on "
    "the server."
)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        # IIS's page: its title, then what the browser shows; no CSS, no markup, no comment with the stack trace
        (IIS_PAGE, 120, IIS_TEXT[:119] + "…"),
        ("<html><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>", 500, "502 Bad Gateway nginx"),
        ("<!DOCTYPE html><html><head><title>Lỗi</title></head><body>  </body></html>", 500, "Lỗi"),
        ("<html><head><style>p {color: red}</style></head></html>", 500, None),
        # text that is not a page is kept as it came, only bounded
        ("Thiếu phần tử <MaHoSo> trong yêu cầu", 500, "Thiếu phần tử <MaHoSo> trong yêu cầu"),
        ("Hồ sơ\nkhông hợp lệ", 500, "Hồ sơ\nkhông hợp lệ"),
        ("x" * 30, 20, "x" * 19 + "…"),
        ("", 500, None),
        (None, 500, None),
    ],
)
def test_error_text_is_what_a_person_reads_bounded(text: str | None, limit: int, expected: str | None) -> None:
    assert readable_text(text, limit) == expected


def test_an_iis_error_page_is_stored_as_its_text(exchanges: ExchangeLog) -> None:
    ep = endpoint(SOAP_URL, exchanges)
    ep.bounds = Bounds(error_text_max=300)
    connector = SoapConnector(ep, profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, status=500, body=IIS_PAGE, content_type="text/html; charset=utf-8")
        with pytest.raises(RemoteUnavailable) as caught:
            connector._operation("health", "KiemTraKetNoi", {})
    said = caught.value.remote_message
    assert said is not None
    assert said.startswith(IIS_TEXT)
    assert len(said) <= 300
    assert not any(mark in said for mark in ("font-family", "{", "<br", "<H1", "&quot;", "HttpException"))
