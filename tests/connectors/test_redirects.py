"""A redirect to another host is refused before anything is sent there: neither the login's password nor a pushed
dossier follows a 307 to a stranger, and the refusal parks (it is not retried) unless the system lists that host."""

from __future__ import annotations

import json

import pytest
import responses

from connectors.auth import NoAuth
from connectors.errors import RedirectRefused
from connectors.recording import ExchangeLog
from foundation.errors import Action
from foundation.topology import System
from mappings.vendors import profile
from systems import registry
from systems.dvcqg.connector import DvcqgConnector, ServiceEnvelope, SessionLogin, portal_body
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS, PORTAL_URL, SOAP_URL, endpoint

STRANGER = "http://stranger.test/collect"
RECORDS = [{"MaHoSo": "000.00.17.H47-240301-0001"}, {"MaHoSo": "000.00.17.H47-240301-0002"}]


def _to_stranger(wire: responses.RequestsMock, url: str) -> None:
    wire.add(responses.POST, url, status=307, headers={"Location": STRANGER})
    wire.add(responses.POST, STRANGER, json={})  # what a stranger would answer: "{}" once read as "delivered"


def _stranger_calls(wire: responses.RequestsMock) -> int:
    return len([c for c in wire.calls if (c.request.url or "").startswith(STRANGER)])


def test_a_307_on_login_is_refused_without_sending_the_password_to_the_other_host(exchanges: ExchangeLog) -> None:
    ep = endpoint(PORTAL_URL, exchanges)
    auth = SessionLogin(PORTAL_URL + "/auth", CREDS, body_check=portal_body(ep.table), table=ep.table)
    connector = DvcqgConnector(ep, auth, ServiceEnvelope(PORTAL_URL + "/integration"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        _to_stranger(wire, PORTAL_URL + "/auth")
        results = connector.push_dossiers("517", RECORDS, existing=set())
        assert _stranger_calls(wire) == 0
        assert len(wire.calls) == 1  # one login, not one per record and not retried
    errors = [r.error for r in results]
    assert all(isinstance(e, RedirectRefused) and e.action is Action.PARK for e in errors)
    assert isinstance(errors[0], RedirectRefused)
    assert errors[0].location_host == "stranger.test"
    assert "stranger.test" in errors[0].message
    recorded = exchanges.take()
    assert [e.operation for e in recorded] == ["login"]
    assert "hub-secret-password" not in recorded[0].request + (recorded[0].error or "")


def test_a_307_on_push_is_refused_for_every_record_without_sending_the_body_to_the_other_host() -> None:
    connector = DvcqgConnector(endpoint(PORTAL_URL, ExchangeLog()), NoAuth(), ServiceEnvelope(PORTAL_URL + "/integ"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        _to_stranger(wire, PORTAL_URL + "/integ")
        results = connector.push_dossiers("517", RECORDS, existing=set())
        assert _stranger_calls(wire) == 0
        assert len(wire.calls) == 1  # the batch is not split record by record: the endpoint is the problem
    assert [r.dossier_code for r in results] == [r["MaHoSo"] for r in RECORDS]
    assert all(isinstance(r.error, RedirectRefused) and r.error.action is Action.PARK for r in results)


def test_a_307_on_a_soap_push_is_refused_without_sending_the_envelope_to_the_other_host() -> None:
    connector = SoapConnector(endpoint(SOAP_URL, ExchangeLog()), profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    record = {"MaHoSo": RECORDS[0]["MaHoSo"], "TrangThai": 3, "PhienBanNguon": 1, "DanhSachTienDo": {"TienDo": []}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        _to_stranger(wire, SOAP_URL)
        with pytest.raises(RedirectRefused):
            connector.push_dossiers("517", [record])
        assert _stranger_calls(wire) == 0
        assert len(wire.calls) == 1  # the envelope went to the system's own address, and only there


def test_a_redirect_within_the_same_host_is_still_followed() -> None:
    connector = DvcqgConnector(endpoint(PORTAL_URL, ExchangeLog()), NoAuth(), ServiceEnvelope(PORTAL_URL + "/old"))
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, PORTAL_URL + "/old", status=308, headers={"Location": "/dvcqg/new"})
        wire.add(responses.POST, PORTAL_URL + "/new", json={"error_code": 0, "data": []})
        assert connector.procedures("517") == []


def test_a_host_the_system_lists_in_redirect_hosts_may_be_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a portal whose integration URL moved to its second host, listed in the system's options
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_PASSWORD", "portal-pass-Zq93")
    system = System(
        name="dvcqg",
        kind="dvcqg-session",
        base_url="http://p.test/dvcqg",
        credentials="dvcqg",
        options={"redirect_hosts": ["p2.test"]},
    )
    target = registry.build_target(system)
    assert isinstance(target, DvcqgConnector)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, "http://p.test/dvcqg/auth", json={"error_code": 0, "session": "s-1"})
        wire.add(
            responses.POST, "http://p.test/dvcqg/integration", status=307, headers={"Location": "http://p2.test/i"}
        )
        wire.add(responses.POST, "http://p2.test/i", json={"error_code": 0, "data": [{"maTTHC": "1.0001"}]})
        # When the catalogue is asked for, Then the answer comes from the listed host
        assert target.procedures("517") == [{"maTTHC": "1.0001"}]
        moved = wire.calls[-1].request
        assert moved.url == "http://p2.test/i"
        assert json.loads(moved.body or b"{}")["service"] == "LayDanhSachTTHC"
