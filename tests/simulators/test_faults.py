"""Done-when 3: each fault kind, switched on, is seen by an ordinary HTTP or SOAP client."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from foundation.clock import VN_TZ
from simulators.server import Simulators

SINCE = datetime(2023, 9, 1, tzinfo=VN_TZ)
HEALTH = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="urn:motcua:hoso:v1"><soap:Header>'
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
    "<wsse:UsernameToken><wsse:Username>hub</wsse:Username><wsse:Password>hub-secret</wsse:Password>"
    "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><m:KiemTraKetNoi/></soap:Body></soap:Envelope>"
)


def soap_post(sims: Simulators, timeout: float = 5) -> requests.Response:
    return requests.post(sims.soap_url, data=HEALTH, headers={"Content-Type": "text/xml"}, timeout=timeout)


def portal_session(sims: Simulators) -> str:
    reply = requests.post(
        f"{sims.portal_url}/dvcqg/auth",
        json={"username": "hub", "password": "hub-secret"},
        headers={"dstcode": "517"},
        timeout=5,
    ).json()
    return str(reply["session"])


def integration(sims: Simulators, session: str, service: str, **params: object) -> requests.Response:
    body = {"session": session, "madonvi": "517", "service": service, **params}
    return requests.post(f"{sims.portal_url}/dvcqg/integration", json=body, timeout=5)


def feed(sims: Simulators) -> list[tuple[str, int]]:
    soap = zeep.Client(sims.wsdl_url, wsse=UsernameToken("hub", "hub-secret"))  # type: ignore[no-untyped-call]
    page = soap.service.LayDanhSachHoSoThayDoi(MaDonVi="517", TuNgay=SINCE, SoLuongToiDa=20)
    return [(e.MaHoSo, e.PhienBan) for e in page.DanhSachThayDoi.ThayDoi]


def test_latency_delays_the_answer(sims: Simulators) -> None:
    sims.set_fault("soap", latency_ms=300, latency_distribution="fixed")
    started = time.perf_counter()
    assert soap_post(sims).status_code == 200
    assert time.perf_counter() - started >= 0.3


@pytest.mark.parametrize("status", [500, 503])
def test_http_errors(sims: Simulators, status: int) -> None:
    sims.set_fault("soap", error_rate=1.0, error_status=status, times=1)
    assert soap_post(sims).status_code == status
    assert soap_post(sims).status_code == 200  # times=1: only the next request failed


def test_soap_faults(sims: Simulators) -> None:
    sims.set_fault("soap:KiemTraKetNoi", soap_fault_rate=1.0)
    soap = zeep.Client(sims.wsdl_url, wsse=UsernameToken("hub", "hub-secret"))  # type: ignore[no-untyped-call]
    with pytest.raises(Fault) as caught:
        soap.service.KiemTraKetNoi()
    assert caught.value.code == "soap:Server.LoiHeThong"


def test_hanging_connections_time_the_client_out(sims: Simulators) -> None:
    sims.set_fault("soap", hang_rate=1.0, hang_seconds=3, times=1)
    with pytest.raises(requests.Timeout):
        soap_post(sims, timeout=0.3)


def test_rate_limiting_says_when_to_retry(sims: Simulators) -> None:
    sims.set_fault("dvcqg", rate_limit_rate=1.0, retry_after=7)
    response = requests.post(f"{sims.portal_url}/dvcqg/auth", json={}, timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"


def test_truncated_and_malformed_xml(sims: Simulators) -> None:
    for kind in ("truncate_rate", "malformed_rate"):
        sims.set_fault("soap", **{kind: 1.0})
        response = soap_post(sims)
        assert response.status_code == 200
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(response.content)


def test_truncated_and_malformed_json(sims: Simulators) -> None:
    for kind in ("truncate_rate", "malformed_rate"):
        sims.set_fault("dvcqg:auth", **{kind: 1.0})
        response = requests.post(
            f"{sims.portal_url}/dvcqg/auth", json={"username": "hub", "password": "hub-secret"}, timeout=5
        )
        assert response.status_code == 200
        with pytest.raises(requests.JSONDecodeError):
            response.json()


def test_expired_sessions_on_the_portal_and_the_gateway(sims: Simulators) -> None:
    session = portal_session(sims)
    sims.set_fault("dvcqg:LayDanhSachTTHC", expire_session_rate=1.0, times=1)
    assert integration(sims, session, "LayDanhSachTTHC").json()["error_code"] == "11"
    assert integration(sims, session, "LayDanhSachTTHC").json()["error_code"] == "11"  # the session is gone
    assert integration(sims, portal_session(sims), "LayDanhSachTTHC").json()["error_code"] == "0"
    token = requests.post(
        f"{sims.portal_url}/lgsp/token",
        data={"grant_type": "client_credentials"},
        auth=("hub", "hub-secret"),
        timeout=5,
    ).json()["access_token"]
    sims.set_fault("lgsp:auth", expire_session_rate=1.0, times=1)
    response = requests.get(
        f"{sims.portal_url}/lgsp/danhmuc/donvi", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 401


def test_duplicated_and_out_of_order_feed_entries(sims: Simulators) -> None:
    clean = feed(sims)
    sims.set_fault("soap:LayDanhSachHoSoThayDoi", feed_duplicate_rate=1.0)
    assert feed(sims) == [e for entry in clean for e in (entry, entry)]
    sims.set_fault("soap:LayDanhSachHoSoThayDoi", feed_shuffle_rate=1.0)
    assert feed(sims) == list(reversed(clean))


def test_error_inside_a_200(sims: Simulators) -> None:
    session = portal_session(sims)
    sims.set_fault("dvcqg:DongBoHoSoMC", error_in_200_rate=1.0)
    response = integration(sims, session, "DongBoHoSoMC", isUpdating="False", data=[])
    assert response.status_code == 200 and response.json()["error_code"] == "99"


def test_faults_are_switched_at_run_time_over_http(sims: Simulators) -> None:
    set_reply = requests.post(
        f"{sims.portal_url}/_faults", json={"endpoint": "soap", "error_rate": 1.0, "error_status": 503}, timeout=5
    )
    assert set_reply.status_code == 200
    assert soap_post(sims).status_code == 503
    assert requests.delete(f"{sims.soap_url.rsplit('/', 1)[0]}/_faults", timeout=5).status_code == 200
    assert soap_post(sims).status_code == 200
