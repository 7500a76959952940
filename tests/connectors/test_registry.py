"""The factory builds each kind from the topology, and credentials and tokens never leak."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from connectors.errors import AuthenticationFailed
from connectors.recording import ExchangeLog
from foundation.errors import ConfigurationError
from foundation.topology import System
from systems import registry
from systems.dvcqg.connector import DvcqgConnector
from systems.fake import fake_connector
from systems.fake.connector import FakeConnector

PASSWORD = "portal-pass-Zq93"
SESSION = "sess-7f3a9c1e55"
TOKEN = "tok-0b1d2e3f4a5b"


@pytest.fixture(autouse=True)
def _creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_DVCQG_PASSWORD", PASSWORD)


def _system(kind: str, url: str, **options: object) -> System:
    return System(name="dvcqg", kind=kind, base_url=url, credentials="dvcqg", batch_size=2, options=options)


def test_fake_systems_share_one_in_memory_connector() -> None:
    system = System(name="fake-portal", kind="fake", base_url="fake://portal")
    target: object = registry.build_target(system)  # a Target and a Source at once: compared as plain objects
    assert target is registry.build_source(system) is fake_connector("fake-portal")
    assert isinstance(fake_connector("fake-portal"), FakeConnector)


def test_a_portal_cannot_be_a_source() -> None:
    with pytest.raises(ConfigurationError):
        registry.build_source(_system("dvcqg-session", "http://p.test/dvcqg"))


def test_connectors_are_built_once_per_system() -> None:
    system = _system("dvcqg-lgsp", "http://p.test/lgsp")
    assert registry.build_target(system) is registry.build_target(system)
    assert isinstance(registry.build_target(system), DvcqgConnector)


def test_session_upsert_looks_up_then_creates_or_updates_in_configured_batches() -> None:
    system = _system("dvcqg-session", "http://p.test/dvcqg")
    target = registry.build_target(system)
    records = [{"MaHoSo": f"000.00.17.H47-240301-000{i}", "TrangThaiHoSo": 4} for i in range(1, 4)]
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, "http://p.test/dvcqg/auth", json={"error_code": 0, "session": SESSION})

        def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            body = json.loads(request.body or b"{}")
            if body["service"] == "TraCuuHoSo":
                found = body["mahoso"].endswith("0002")  # known at an earlier stage: an update, not a creation
                data = [{"MaHoSo": body["mahoso"], "TrangThaiHoSo": 2}] if found else []
                return 200, {}, json.dumps({"error_code": 0, "data": data})
            return 200, {}, json.dumps({"error_code": 0, "message": "ok"})

        wire.add_callback(responses.POST, "http://p.test/dvcqg/integration", callback=reply)
        results = target.push_dossiers("517", records)
        progress = target.push_progress(
            "517", [{"MaHoSo": records[0]["MaHoSo"], "NoiDungXuLy": str(i)} for i in range(23)]
        )
        sent = [json.loads(c.request.body or b"") for c in wire.calls if (c.request.url or "").endswith("/integration")]
    assert [r.created for r in results] == [True, False, True]
    syncs = [(s["isUpdating"], len(s["data"])) for s in sent if s["service"] == "DongBoHoSoMC"]
    assert syncs == [("False", 1), ("True", 1), ("False", 1)]  # batch of 2 (one new, one known), then 1
    assert [len(s["data"]) for s in sent if s["service"] == "CapNhatTienDoHoSoMC"] == [10, 10, 3]
    assert all(r.ok for r in progress)
    assert all(s["session"] == SESSION and s["madonvi"] == "517" for s in sent)


def test_credentials_and_tokens_never_reach_errors_or_recorded_payloads() -> None:
    log = ExchangeLog()
    system = _system("dvcqg-lgsp", "http://p.test/lgsp")
    target = registry.build_target(system, recorder=log)
    with responses.RequestsMock() as wire:
        # The gateway echoes what it got, secrets included, and refuses twice.
        echo = f"invalid token Bearer {TOKEN} for client hub:{PASSWORD} session {SESSION}"
        for _ in range(2):
            wire.add(responses.POST, "http://p.test/lgsp/token", json={"access_token": TOKEN, "expires_in": 3600})
            wire.add(responses.POST, "http://p.test/lgsp/dvcqg/auth", json={"error_code": "0", "session": SESSION})
            wire.add(responses.POST, "http://p.test/lgsp/dvcqg/integration", status=401, body=echo)
        with pytest.raises(AuthenticationFailed) as caught:
            target.lookup("517", "000.00.17.H47-240301-0001")
        assert len([c for c in wire.calls if (c.request.url or "").endswith("/token")]) == 2  # refreshed on 401
    text = str(caught.value) + repr(caught.value.__dict__)
    recorded = " ".join(f"{e.endpoint} {e.request} {e.response} {e.error}" for e in log.take())
    for secret in (PASSWORD, TOKEN, SESSION):
        assert secret not in text
        assert secret not in recorded
    assert "Bearer" not in recorded or "[removed]" in recorded
