"""The simulated vendors hold to their own contracts: they refuse what the default contract would send."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from foundation.topology import Topology, load
from simulators import truongson
from simulators.server import Simulators
from tests.simulators.conftest import TOPOLOGIES

ENVELOPE = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
    "<s:Header><wsse:Security><wsse:UsernameToken><wsse:Username>hub</wsse:Username>"
    "<wsse:Password>{password}</wsse:Password></wsse:UsernameToken></wsse:Security></s:Header>"
    '<s:Body><TraCuuBienDong xmlns="http://egov.phuongnam.example/motcua/2021"><maCoQuan>502</maCoQuan>'
    "<thoiGianTu>{since}</thoiGianTu></TraCuuBienDong></s:Body></s:Envelope>"
)


@pytest.fixture(scope="module")
def three_vendors() -> Topology:
    return load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml")


@pytest.fixture(scope="module")
def vendors(start_simulators: type[Simulators], three_vendors: Topology) -> Iterator[Simulators]:
    with start_simulators(three_vendors, seed=7, dossiers=100) as running:
        yield running


def _feed(sims: Simulators, since: str, password: str = "hub-secret") -> requests.Response:  # noqa: S107
    return requests.post(
        sims.vendor_url("phuongnam"),
        data=ENVELOPE.format(since=since, password=password).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )


def test_the_soap_vendor_takes_local_time_text_and_refuses_an_xsd_datetime(vendors: Simulators) -> None:
    assert _feed(vendors, "01/10/2023 00:00:00").status_code == 200
    refused = _feed(vendors, "2023-10-01T00:00:00+07:00")  # what zeep writes for a datetime
    assert refused.status_code == 500 and "PN-422" in refused.text


def test_the_soap_vendor_refuses_wrong_credentials(vendors: Simulators) -> None:
    refused = _feed(vendors, "01/10/2023 00:00:00", password="wrong")
    assert refused.status_code == 500 and "PN-401" in refused.text


def test_the_soap_vendor_serves_only_its_own_units(vendors: Simulators) -> None:
    body = ENVELOPE.format(since="01/10/2023 00:00:00", password="hub-secret").replace(">502<", ">20965<")
    refused = requests.post(vendors.vendor_url("phuongnam"), data=body.encode(), timeout=10)
    assert refused.status_code == 500 and "PN-404" in refused.text


def test_the_json_vendor_answers_windows_of_at_most_31_days(vendors: Simulators) -> None:
    url = vendors.vendor_url("bachdang") + "/api/v2/agencies/503/changes"
    auth = ("hub", "hub-secret")
    ok = requests.get(url, params={"from": "2023-09-15T00:00:00Z", "to": "2023-10-15T00:00:00Z"}, auth=auth, timeout=10)
    assert ok.status_code == 200 and ok.json()["count"] == len(ok.json()["changes"]) > 0
    too_long = requests.get(
        url, params={"from": "2023-09-01T00:00:00Z", "to": "2023-10-15T00:00:00Z"}, auth=auth, timeout=10
    )
    assert too_long.status_code == 400 and too_long.json()["error"] == "BAD_WINDOW"
    assert requests.get(url, params={"from": "2023-09-15T00:00:00Z"}, timeout=10).status_code == 401


ASMX = (
    '<soap:Envelope xmlns:soap="{env}"><soap:Header><AuthHeader xmlns="http://tempuri.org/"><UserName>hub</UserName>'
    "<Password>{password}</Password></AuthHeader></soap:Header><soap:Body>"
    '<GetChangedDossiers xmlns="http://tempuri.org/"><unitCode>507</unitCode><fromDate>2023-09-01T00:00:00</fromDate>'
    "<pageIndex>0</pageIndex><pageSize>5</pageSize></GetChangedDossiers></soap:Body></soap:Envelope>"
)
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


@pytest.mark.parametrize(
    ("env", "content_type"),
    [
        (SOAP11, "text/xml; charset=utf-8"),
        (SOAP12, 'application/soap+xml; charset=utf-8; action="http://tempuri.org/GetChangedDossiers"'),
    ],
    ids=["soap11", "soap12"],
)
def test_the_asmx_vendor_answers_both_soap_versions_on_one_endpoint_with_a_dataset(
    vendors: Simulators, env: str, content_type: str
) -> None:
    headers = {"Content-Type": content_type, "SOAPAction": '"http://tempuri.org/GetChangedDossiers"'}
    if env == SOAP12:
        del headers["SOAPAction"]
    ok = requests.post(
        vendors.vendor_url("thubon"), data=ASMX.format(env=env, password="hub-secret"), headers=headers, timeout=10
    )
    assert ok.status_code == 200 and ok.headers["content-type"].startswith(content_type.split(";")[0])
    answer = etree.fromstring(ok.content)
    assert etree.QName(answer).namespace == env
    rows = answer.findall(".//{urn:schemas-microsoft-com:xml-diffgram-v1}diffgram/NewDataSet/Table")
    assert len(rows) == 5 and answer.find(".//{http://www.w3.org/2001/XMLSchema}schema") is not None
    # a wrong password is a *server* fault with nothing in its detail, as ASP.NET writes an exception
    refused = requests.post(
        vendors.vendor_url("thubon"), data=ASMX.format(env=env, password="wrong"), headers=headers, timeout=10
    )
    assert refused.status_code == 500 and "Sai thông tin xác thực" in refused.text
    fault = etree.fromstring(refused.content).find(f".//{{{env}}}Fault")
    assert fault is not None
    if env == SOAP11:
        assert fault.findtext("faultcode") == "soap:Server" and len(fault.find("detail")) == 0
    else:
        assert fault.findtext(f"{{{env}}}Code/{{{env}}}Value") == "soap:Receiver"
        assert len(fault.find(f"{{{env}}}Detail")) == 0


def test_the_asmx_vendor_serves_its_own_wsdl_with_both_bindings(vendors: Simulators) -> None:
    wsdl = requests.get(vendors.vendor_url("thubon") + "?WSDL", timeout=10)
    assert wsdl.status_code == 200
    assert 'binding name="DichVuHoSoSoap"' in wsdl.text and 'binding name="DichVuHoSoSoap12"' in wsdl.text
    assert vendors.vendor_url("thubon") in wsdl.text  # the address of the running server, not the file's


# ── the REST platform behind OAuth2 (Trường Sơn Cloud) ─────────────────────────────────────────────────────────


def _token(sims: Simulators, secret: str = "hub-secret") -> requests.Response:  # noqa: S107
    return requests.post(
        sims.vendor_url("truongson") + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("hub", secret),
        timeout=10,
    )


def _api(sims: Simulators, method: str, path: str, token: str, **kwargs: object) -> requests.Response:
    return requests.request(
        method,
        sims.vendor_url("truongson") + "/api/v3" + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_rest_platforms_token_server_refuses_a_wrong_secret_as_keycloak_does(vendors: Simulators) -> None:
    refused = _token(vendors, "wrong")
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    granted = _token(vendors).json()
    assert granted["token_type"] == "Bearer" and granted["expires_in"] == 60


def test_an_expired_token_is_refused_with_401(vendors: Simulators) -> None:
    token = _token(vendors).json()["access_token"]
    assert _api(vendors, "GET", "/health", token).status_code == 200
    vendors.truongson.expire_tokens()
    refused = _api(vendors, "GET", "/health", token)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["WWW-Authenticate"]


def test_the_rest_platforms_cursor_walks_the_whole_feed_once(vendors: Simulators) -> None:
    token = _token(vendors).json()["access_token"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"modified_since": "0", "page_size": "3", **({"cursor": cursor} if cursor else {})}
        payload = _api(vendors, "GET", "/agencies/000.00.18.H47/dossier-events", token, params=params).json()["payload"]
        seen.extend(event["dossier_no"] for event in payload["events"])
        cursor = payload["cursor"]["next"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(r.MaHoSo for r in vendors.store.records("518")) and len(seen) > 3
    # a unit asked for by its GSO code is not one the platform knows: an empty feed, not an error
    other = _api(vendors, "GET", "/agencies/518/dossier-events", token, params={"modified_since": "0"})
    assert other.status_code == 200 and other.json()["payload"]["events"] == []


def test_the_rest_platform_throttles_with_retry_after(vendors: Simulators) -> None:
    token = _token(vendors).json()["access_token"]
    vendors.set_fault("truongson:events", rate_limit_rate=1.0, retry_after=3, times=1)
    throttled = _api(vendors, "GET", "/agencies/000.00.18.H47/dossier-events", token, params={"modified_since": "0"})
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"


def test_the_rest_platform_stores_a_status_written_back_by_put(vendors: Simulators) -> None:
    token = _token(vendors).json()["access_token"]
    record = vendors.store.records("513")[0]
    oid = truongson.object_id(record.MaHoSo)
    written = _api(vendors, "PUT", f"/dossiers/{oid}/status", token, json={"status_code": 9, "note": "trả kết quả"})
    assert written.status_code == 200 and written.json()["payload"]["dossier_no"] == record.MaHoSo
    [stored] = vendors.truongson.written(record.MaHoSo)
    assert (stored.status_code, stored.note) == (9, "trả kết quả")
    refused = _api(vendors, "PUT", f"/dossiers/{oid}/status", token, json={"status_code": 10})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "INVALID_STATUS"
    assert _api(vendors, "PUT", "/dossiers/ffffffffffffffffffffffff/status", token, json={}).status_code == 404
