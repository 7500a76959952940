"""The six gaps a second vendor's contract exposed (issue 12), each closed by a profile feature and nothing else.

Phương Nam's SOAP service and Bạch Đằng's JSON API (``simulators/``) serve the same data world as the default
contract's service, so the default contract's record of a dossier is the oracle: a vendor's record, read through its
profile, must map to the same canonical dossier. Records are chosen to break the rules: times near midnight, where
local time and UTC fall on different days; dates the vendor does not know (``01/01/0001 00:00:00``).
"""

from __future__ import annotations

import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
import yaml
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.auth import AuthOptions, ClientCredentials, build_auth
from connectors.base import ChangeRef
from connectors.changes import feed_of, request_body
from connectors.errors import DEFAULT_TABLE, AuthenticationFailed, RemoteRejected
from connectors.http import Endpoint
from connectors.recording import ExchangeLog
from foundation.clock import VN_TZ
from foundation.credentials import Credentials
from foundation.errors import Action, ConfigurationError
from foundation.settings import Settings
from foundation.topology import System, Topology, load
from mappings.canonical import parse_dossier_code
from mappings.codes import Status
from mappings.errors import ValidationFailed
from mappings.steps import StepStatus
from mappings.tables import tables
from mappings.units import UnitIdentity
from mappings.vendors import (
    FIELD_VENDORS_DIR,
    ChangesRequest,
    Converter,
    DossierResponse,
    Undeclared,
    get_path,
    load_profile,
    to_default,
)
from simulators.phuongnam import UNKNOWN_TIME
from simulators.server import Simulators
from systems import registry
from systems.motcua import mapping as motcua
from tests.conftest import TOPOLOGIES
from tests.waiting import eventually

SYSTEMS = ("MOTCUA_QUANGNAM", "MOTCUA_TAMKY", "MOTCUA_HOIAN", "MOTCUA_THANGBINH")


def _none(local_code: str) -> None:
    return None


@pytest.fixture(scope="module")
def world(
    start_simulators: type[Simulators], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulators, Topology]]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=5, dossiers=250) as sims:
        yield sims, load(sims.topology_file(tmp_path_factory.mktemp("vendors") / "topology.yaml"))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for ref in SYSTEMS:
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", "hub-secret")


def _feed(source: Any, unit: str, since: datetime) -> list[ChangeRef]:
    refs: list[ChangeRef] = []
    token = None
    while True:
        page = source.fetch_changes(unit, since, token)
        refs.extend(page.items)
        token = page.next_token
        if token is None:
            return refs


def _oracle(topology: Topology, unit: str, code: str) -> dict[str, Any]:
    """The dossier as the default contract's service gives it, mapped: what every vendor must map to."""
    record = registry.build_source(topology.systems["motcua-quangnam"]).get_dossier(unit, code)
    return motcua.to_canonical(record, procedures=_none).model_dump(mode="json", exclude={"updated_at"})


# ── gap 1: request value formats ─────────────────────────────────────────────────────────────────────────────


def test_the_feed_request_writes_since_as_local_time_text_in_the_vendors_format(world: Any) -> None:
    _, topology = world
    log = ExchangeLog()
    source = registry.build_source(topology.systems["motcua-tamky"], recorder=log)
    # 20:30 UTC on 1 March is 03:30 on 2 March in Vietnam: the day differs, so a wrong zone shows
    source.fetch_changes("502", datetime(2024, 3, 1, 20, 30, 15, tzinfo=UTC))
    request = log.take()[-1].request
    assert ">02/03/2024 03:30:15<" in request
    assert "2024-03-01T20:30:15" not in request


def test_the_json_feed_asks_for_utc_windows_the_vendor_accepts(world: Any) -> None:
    sims, topology = world
    source = registry.build_source(topology.systems["motcua-hoian"])
    since = sims.now() - timedelta(days=45)
    refs = _feed(source, "503", since)  # 45 days in windows of at most 31, or the vendor answers 400
    assert refs and all(since <= r.updated_at <= sims.now() for r in refs)


def test_request_values_take_the_vendors_formats_nesting_and_constants() -> None:
    request = ChangesRequest.model_validate(
        {
            "unit": "boLoc.maCoQuan",
            "since": {"element": "boLoc.tu", "format": "%Y%m%d%H%M%S", "tz": "Asia/Ho_Chi_Minh"},
            "page_size": {"element": "soDong", "type": "text"},
            "token": {"element": "conNua", "type": "boolean", "boolean": ["C", "K"]},
            "constants": {"phienBanApi": "2.1"},
        }
    )
    body = request_body(
        request, {"unit": 502, "since": datetime(2024, 2, 29, 17, 0, tzinfo=UTC), "page_size": 50, "token": False}
    )
    assert body == {
        "boLoc": {"maCoQuan": 502, "tu": "20240301000000"},
        "soDong": "50",
        "conNua": "K",
        "phienBanApi": "2.1",
    }


# ── gap 2: change-feed times as strings ──────────────────────────────────────────────────────────────────────


def test_feed_times_given_as_local_text_become_aware_times(world: Any) -> None:
    sims, topology = world
    refs = _feed(registry.build_source(topology.systems["motcua-tamky"]), "502", sims.now() - timedelta(days=60))
    copies = {r.MaHoSo: r for r in sims.store.records("502")}
    assert len(refs) == len(copies) > 5
    for ref in refs:
        assert ref.updated_at.tzinfo is not None
        assert ref.updated_at == copies[ref.dossier_code].NgayCapNhat.replace(microsecond=0)


def test_a_feed_time_no_converter_reads_is_refused_naming_the_profile_key(world: Any, tmp_path: Path) -> None:
    sims, topology = world
    data = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    del data["responses"]["changes"]["times"]
    broken = tmp_path / "phuongnam-no-times.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    system = topology.systems["motcua-tamky"].model_copy(update={"options": {"vendor_file": str(broken)}})
    with pytest.raises(RemoteRejected, match=r"responses\.changes\.times"):
        _feed(registry.build_source(system), "502", sims.now() - timedelta(days=60))


# ── gap 3: nested records, and gap 5: the vendor's code spellings ──────────────────────────────────────────


@pytest.mark.parametrize(("system", "unit"), [("motcua-tamky", "502"), ("motcua-hoian", "503")])
def test_a_nested_record_maps_to_the_same_dossier_as_the_default_contracts(world: Any, system: str, unit: str) -> None:
    sims, topology = world
    source = registry.build_source(topology.systems[system])
    refs = _feed(source, unit, sims.now() - timedelta(days=60))
    assert len(refs) > 5
    steps = 0
    for ref in refs:
        dossier = motcua.to_canonical(source.get_dossier(unit, ref.dossier_code, seen=ref), procedures=_none)
        assert dossier.model_dump(mode="json", exclude={"updated_at"}) == _oracle(topology, unit, ref.dossier_code)
        steps += len(dossier.progress)
    assert steps > len(refs)  # lists of nested records (the steps) came through, not only the top level


def test_the_vendors_own_status_words_need_its_code_table(world: Any) -> None:
    sims, topology = world
    source = registry.build_source(topology.systems["motcua-tamky"])
    ref = _feed(source, "502", sims.now() - timedelta(days=60))[0]
    record = source.get_dossier("502", ref.dossier_code, seen=ref)
    expected = Status(sims.source_copy("502", ref.dossier_code).TrangThai)
    assert record["TrangThai"] == expected.value
    # the packaged tables alone do not know the vendor's word for it
    vendor_word = load_profile(FIELD_VENDORS_DIR / "phuongnam.yaml").codes["status"][expected.value][0]
    with pytest.raises(ValueError, match="status"):
        tables().status.parse(vendor_word)


def test_vendor_code_tables_layer_over_the_packaged_ones() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "phuongnam.yaml")
    record = {"tinhTrang": "dang_xu_ly", "kenhNop": " dich_vu_cong ", "nguoiNop": {"doiTuong": "CA_NHAN"}}
    default = to_default(record, vendor)
    # a packaged spelling still reads (via the packaged table), the vendor's spellings become numbers
    assert tables().status.parse(default["TrangThai"]) is Status.PROCESSING
    assert default["KenhThucHien"] == 2 and default["ChuHoSo"]["LoaiDoiTuong"] == 1


def test_unknown_dates_written_as_a_sentinel_become_empty() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "phuongnam.yaml")
    record = {
        "mocThoiGian": {
            "ngayNop": "01/03/2024 23:59:59",
            "ngayTraKQ": UNKNOWN_TIME,
            "ngayTuChoi": " 01/01/0001 00:00:00 ",
        }
    }
    default = to_default(record, vendor)
    assert default["NgayNop"] == datetime(2024, 3, 1, 23, 59, 59, tzinfo=VN_TZ)
    assert default["NgayTra"] is None and default["NgayTuChoi"] is None


# ── gap 4: no change time in the record ─────────────────────────────────────────────────────────────────────


def test_a_record_without_a_change_time_takes_the_feeds(world: Any) -> None:
    sims, topology = world
    source = registry.build_source(topology.systems["motcua-tamky"])
    ref = _feed(source, "502", sims.now() - timedelta(days=60))[-1]
    dossier = motcua.to_canonical(source.get_dossier("502", ref.dossier_code, seen=ref), procedures=_none)
    assert dossier.updated_at == ref.updated_at
    # without the feed's entry there is no change time, and the problem names the field
    with pytest.raises(ValidationFailed, match="NgayCapNhat"):
        motcua.to_canonical(source.get_dossier("502", ref.dossier_code), procedures=_none)


# ── gap 6: a dossier request without a unit ─────────────────────────────────────────────────────────────────


def test_the_dossier_request_carries_only_the_dossier_number(world: Any) -> None:
    sims, topology = world
    log = ExchangeLog()
    source = registry.build_source(topology.systems["motcua-tamky"], recorder=log)
    code = sims.store.records("502")[0].MaHoSo
    record = source.get_dossier("502", code)  # the vendor's schema refuses any other element
    assert record["MaHoSo"] == code
    request = log.take()[-1].request
    assert "soHoSo" in request and "maCoQuan" not in request and "502<" not in request


# ── profiles are validated, with the file and the key path ───────────────────────────────────────────────────


def test_a_broken_profile_names_its_file_and_key_path(tmp_path: Path) -> None:
    data = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    data["converters"][0]["tz"] = "Asia/Hanoi_City"
    data["requests"]["changes"]["since"]["fromat"] = "%d/%m/%Y"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(path)
    message = caught.value.message
    assert str(path) in message
    assert "converters.0.tz" in message and "Asia/Hanoi_City" in message
    assert "requests.changes.since.fromat" in message


def test_config_check_reports_a_broken_profile_of_the_topology(tmp_path: Path) -> None:
    data = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    data["paging"] = {"style": "window"}  # window paging without the window's end element
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    spec = yaml.safe_load((TOPOLOGIES / "quang-nam-2023-three-vendors.yaml").read_text(encoding="utf-8"))
    for system in spec["systems"]:
        if system["name"] == "motcua-tamky":
            system["options"] = {"vendor_file": str(path)}
    topology_file = tmp_path / "topology.yaml"
    topology_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    problems = registry.check(load(topology_file))
    assert len(problems) == 1
    assert "motcua-tamky" in problems[0] and str(path) in problems[0] and "requests.changes.until" in problems[0]


def test_a_json_profile_is_refused_for_a_soap_system() -> None:
    system = System(name="x", kind="soap", base_url="http://x.test", credentials="x", options={"vendor": "bachdang"})
    with pytest.raises(ConfigurationError, match="transport"):
        registry.kind_of(system).parse_options(system)


# ══ issue 21: a REST platform behind OAuth2, read by configuration alone ═══════════════════════════════════════
#
# Trường Sơn Cloud (``simulators/truongson.py``) serves Thăng Bình (513) and Phú Ninh (518): an OAuth2 token server
# with 60-second tokens, units by agency id, epoch-millisecond times, numbers for every code, the dossier by its
# object id with the record at the root, steps with task states. Its profile and topology entry close each point;
# the default contract's record of the same dossier is the oracle.

REST = "motcua-thangbinh"


@pytest.fixture(scope="module")
def rest_world(
    start_simulators: type[Simulators], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulators, Topology, Settings]]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=8, dossiers=300) as sims:
        path = sims.topology_file(tmp_path_factory.mktemp("rest") / "topology.yaml")
        yield sims, load(path), Settings(_env_file=None, topology_file=path)


def _rest(world: Any, log: ExchangeLog | None = None, **options: Any) -> Any:
    """A fresh connector to the platform (its own token cache), with ``options`` over the topology's."""
    _, topology, settings = world
    system = topology.systems[REST]
    if options:
        system = system.model_copy(update={"options": {**system.options, **options}})
    return registry.build_source(system, settings, recorder=log or ExchangeLog())


def _calls(log: ExchangeLog) -> list[Any]:
    """The platform's API calls a connector made, without its token requests."""
    return [e for e in log.take() if e.operation != "token"]


def _since(sims: Simulators) -> datetime:
    return sims.now() - timedelta(days=60)


# ── point 1: authentication as configuration ──────────────────────────────────────────────────────────────────────


def test_an_oauth2_platform_is_read_with_one_token_for_every_call(rest_world: Any) -> None:
    sims = rest_world[0]
    issued = sims.truongson.tokens_issued
    source = _rest(rest_world)
    refs = _feed(source, "513", _since(sims))
    for ref in refs[:5]:
        source.get_dossier("513", ref.dossier_code, seen=ref)
    assert len(refs) > 5
    assert source.auth.fetched == 1 and sims.truongson.tokens_issued == issued + 1  # never a login per call


def test_a_token_that_expires_mid_run_is_renewed_once(rest_world: Any) -> None:
    sims = rest_world[0]
    log = ExchangeLog()
    source = _rest(rest_world, log)
    [first, second, *_] = _feed(source, "518", _since(sims))
    source.get_dossier("518", first.dossier_code, seen=first)
    # When the platform stops accepting the token in the middle of the run
    sims.truongson.expire_tokens()
    record = source.get_dossier("518", second.dossier_code, seen=second)
    # Then the call that met the 401 took one fresh token and went through
    assert record["MaHoSo"] == second.dossier_code
    assert source.auth.fetched == 2
    exchanges = log.take()
    calls = [(e.operation, e.status_code) for e in exchanges]
    assert calls[-3:] == [("GET /api/v3/dossiers/{object_id}", 401), ("token", 200), (calls[-1][0], 200)]
    # and the integration log keeps neither the secret nor the token
    token_call = exchanges[-2]
    assert '"access_token": "***"' in str(token_call.response) and "hub-secret" not in token_call.request


def test_a_wrong_client_secret_parks_with_authentication_failed_naming_the_token_url(
    rest_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = rest_world[0]
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_THANGBINH_PASSWORD", "not-the-secret")
    issued = sims.truongson.tokens_issued
    log = ExchangeLog()
    source = _rest(rest_world, log, page_size=7)  # another system entry: a connector of its own
    with pytest.raises(AuthenticationFailed) as caught:
        source.fetch_changes("513", _since(sims))
    error = caught.value
    assert error.error_class == "authentication_failed" and error.action is Action.PARK
    assert sims.vendor_url("truongson") + "/oauth2/token" in error.message
    assert "invalid_client" in str(error.remote_message)
    assert [e.operation for e in log.take()] == ["token"]  # refused once, not retried
    assert "not-the-secret" not in error.message and sims.truongson.tokens_issued == issued


def test_a_token_is_renewed_before_it_expires_not_after(rest_world: Any) -> None:
    sims = rest_world[0]
    now = [1000.0]
    auth = ClientCredentials(
        sims.vendor_url("truongson") + "/oauth2/token",
        Credentials("hub", SecretStr("hub-secret")),
        leeway=10,
        table=DEFAULT_TABLE,
        monotonic=lambda: now[0],
    )
    endpoint = Endpoint(system="motcua-thangbinh", session=requests.Session())
    first = auth.authorize(endpoint, "").headers["Authorization"]
    now[0] += 49  # the platform's token lives 60 s: still 11 s to go, more than the leeway
    assert auth.authorize(endpoint, "").headers["Authorization"] == first and auth.fetched == 1
    now[0] += 2  # 9 s to go: inside the leeway, a new one is asked before the platform refuses the old
    assert auth.authorize(endpoint, "").headers["Authorization"] != first and auth.fetched == 2


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _signed(d: Path, name: str, *extra: str) -> None:
    """A key and a certificate for ``name``, signed by the test CA in ``d``."""
    key, csr, pem = (str(d / f"{name}.{ext}") for ext in ("key", "csr", "pem"))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", csr, *extra)
    ca, ca_key = str(d / "ca.pem"), str(d / "ca.key")
    copy = ("-copy_extensions", "copy")
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2", *copy, "-out", pem
    )


@pytest.fixture(scope="module")
def mutual_tls(tmp_path_factory: pytest.TempPathFactory, serves_http: None) -> Iterator[tuple[str, Path]]:
    """An HTTPS server that asks every client for a certificate signed by its CA; its URL and the PEM files."""
    d = tmp_path_factory.mktemp("tls")
    ca, ca_key = str(d / "ca.pem"), str(d / "ca.key")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA", "-keyout", ca_key,
             "-out", ca)  # fmt: skip
    _signed(d, "server", "-addext", "subjectAltName=IP:127.0.0.1")
    _signed(d, "client")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=stranger",
             "-keyout", str(d / "stranger.key"), "-out", str(d / "stranger.pem"))  # fmt: skip

    async def hello(request: Any) -> JSONResponse:
        return JSONResponse({"status": "UP"})

    config = uvicorn.Config(
        Starlette(routes=[Route("/api/v2/health", hello)]),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(d / "server.pem"),
        ssl_keyfile=str(d / "server.key"),
        ssl_ca_certs=str(d / "ca.pem"),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=10, what=lambda: "the TLS server to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}", d
    server.should_exit = True
    thread.join(timeout=5)


def test_a_client_certificate_is_presented_when_the_system_configures_one(mutual_tls: tuple[str, Path]) -> None:
    url, d = mutual_tls
    options = {"vendor": "bachdang", "auth": {"type": "none"}}
    tls = {"cert": str(d / "client.pem"), "key": str(d / "client.key"), "ca_bundle": str(d / "ca.pem")}
    system = System(name="mtls", kind="rest-json", base_url=url, options={**options, "tls": tls})
    assert registry.build_source(system).health().ok  # the server asked for a certificate and accepted ours
    # a certificate its CA did not sign is refused in the handshake
    stranger = {**tls, "cert": str(d / "stranger.pem"), "key": str(d / "stranger.key")}
    refused = registry.build_source(system.model_copy(update={"options": {**options, "tls": stranger}})).health()
    assert not refused.ok and "404" not in refused.detail


def test_api_key_and_basic_auth_are_configuration_too() -> None:
    creds = Credentials("client", SecretStr("k3y"))
    endpoint = Endpoint(system="x", session=requests.Session())
    api_key = build_auth(
        AuthOptions(type="api_key", header="X-Api-Token"), creds, base_url="http://x.test", table=DEFAULT_TABLE
    )
    assert api_key.authorize(endpoint, "").headers == {"X-Api-Token": "k3y"}
    basic = build_auth(AuthOptions(), creds, base_url="http://x.test", table=DEFAULT_TABLE)
    assert basic.authorize(endpoint, "").headers["Authorization"].startswith("Basic ")
    with pytest.raises(ValueError, match="token_url"):
        AuthOptions(type="oauth2")


def test_the_portals_lgsp_gateway_uses_the_same_auth_module() -> None:
    system = System(name="lgsp", kind="dvcqg-lgsp", base_url="http://lgsp.test", credentials="dvcqg")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DVC_HUB_CRED_DVCQG_USERNAME", "hub")
        mp.setenv("DVC_HUB_CRED_DVCQG_PASSWORD", "hub-secret")
        connector: Any = registry.build_target(system)
    assert isinstance(connector.auth.outer, ClientCredentials)
    assert connector.auth.outer.token_url == "http://lgsp.test/token"


# ── point 2: units named by their agency id, or by the system's own table ─────────────────────────────────────────


def test_the_feed_request_names_the_unit_by_its_agency_id_and_records_come_back_with_gso_codes(
    rest_world: Any,
) -> None:
    sims = rest_world[0]
    log = ExchangeLog()
    source = _rest(rest_world, log)
    ref = _feed(source, "513", _since(sims))[0]
    assert "/agencies/000.00.13.H47/dossier-events" in _calls(log)[0].endpoint
    record: Any = source.get_dossier("513", ref.dossier_code, seen=ref)
    assert record["MaDonViTiepNhan"] == "513"
    assert all(step.get("MaDonVi") in (None, "49", "513") for step in record["DanhSachTienDo"]["TienDo"])


def test_a_unit_table_names_units_by_the_vendors_own_codes_both_ways() -> None:
    identity = UnitIdentity("table", {"513": "DB-01", "49": "QN"})
    assert identity.to_vendor("513") == "DB-01"
    record: dict[str, Any] = {
        "MaDonViTiepNhan": "db-01",
        "MaDonViXuLy": "X-9",
        "DanhSachTienDo": {"TienDo": [{"MaDonVi": "QN"}]},
    }
    [problem] = identity.translate(record)
    assert record["MaDonViTiepNhan"] == "513" and record["DanhSachTienDo"]["TienDo"][0]["MaDonVi"] == "49"
    assert problem.path == "MaDonViXuLy" and "unit_table" in str(problem) and "X-9" in str(problem)


def test_an_agency_id_the_topology_does_not_know_is_a_named_validation_error(
    rest_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims = rest_world[0]
    source = _rest(rest_world)
    ref = _feed(source, "513", _since(sims))[0]
    # Given a platform whose records name Thăng Bình by an identifier the topology does not give it
    monkeypatch.setitem(sims.truongson.agency_of, "513", "000.99.13.H47")
    with pytest.raises(ValidationFailed) as caught:
        source.get_dossier("513", ref.dossier_code, seen=ref)
    # Then the record is refused, naming the dossier, the field and the topology key to fix, never stored as-is
    assert caught.value.dossier_code == ref.dossier_code
    problem = next(p for p in caught.value.problems if p.path == "MaDonViTiepNhan")
    assert "000.99.13.H47" in str(problem) and "units[].agency_id" in str(problem)


def test_a_merged_units_former_agency_id_is_still_read_but_never_sent() -> None:
    identity = UnitIdentity("agency_id", {"20965": "000.30.01.H43"}, former=[("20965", "000.01.17.H47")])
    assert identity.to_vendor("20965") == "000.30.01.H43"
    record: dict[str, Any] = {"MaDonViTiepNhan": "000.01.17.H47", "MaDonViXuLy": "000.30.01.H43"}
    assert identity.translate(record) == [] and record == {"MaDonViTiepNhan": "20965", "MaDonViXuLy": "20965"}


# ── point 3: times as epoch milliseconds (or seconds), in requests and feeds ──────────────────────────────────────


def test_the_feed_is_asked_and_read_in_epoch_milliseconds(rest_world: Any) -> None:
    sims = rest_world[0]
    log = ExchangeLog()
    since = _since(sims)
    refs = _feed(_rest(rest_world, log), "518", since)
    assert f"modified_since={round(since.timestamp() * 1000)}" in _calls(log)[0].endpoint
    copies = {r.MaHoSo: r for r in sims.store.records("518")}
    assert len(refs) == len(copies) > 5
    for ref in refs:
        assert ref.updated_at.tzinfo is not None
        assert abs(ref.updated_at - copies[ref.dossier_code].NgayCapNhat) < timedelta(milliseconds=1)


def test_epoch_seconds_and_text_with_any_zone_read_and_write_by_profile() -> None:
    seconds = Converter(epoch="s")
    assert seconds.read(1709312400) == datetime(2024, 3, 2, 0, 0, tzinfo=VN_TZ)
    assert seconds.read("1709312400") == datetime(2024, 3, 1, 17, 0, tzinfo=UTC)
    assert seconds.read("soon") == "soon"  # left for the mapping to report at its field
    zoned = Converter(dates=("%Y-%m-%dT%H:%M:%S%z",))
    assert zoned.read("2024-03-01T19:00:00+02:00") == datetime(2024, 3, 1, 17, 0, tzinfo=UTC)
    request = ChangesRequest.model_validate({"unit": "u", "since": {"element": "after", "epoch": "s"}})
    assert request_body(request, {"unit": "1", "since": datetime(2024, 3, 1, 17, 0, tzinfo=UTC)})["after"] == 1709312400


# ── point 4: the record at the root of the answer ─────────────────────────────────────────────────────────────────


def test_the_record_at_the_root_is_named_by_a_dot() -> None:
    answer = {"dossier_no": "x", "items": [1]}
    assert get_path(answer, ".") is answer
    assert DossierResponse(record=".").record.path == "."


@pytest.mark.parametrize("unit", ["513", "518"])
def test_the_rest_platforms_record_maps_to_the_same_dossier_as_the_default_contracts(
    rest_world: Any, unit: str
) -> None:
    sims, topology, _ = rest_world
    source = _rest(rest_world)
    refs = _feed(source, unit, _since(sims))
    assert len(refs) > 5
    steps = 0
    for ref in refs:
        dossier = motcua.to_canonical(source.get_dossier(unit, ref.dossier_code, seen=ref), procedures=_none)
        assert dossier.model_dump(mode="json", exclude={"updated_at"}) == _oracle(topology, unit, ref.dossier_code)
        steps += len(dossier.progress)
    assert steps > len(refs)


# ── point 5: vendor code tables keyed by numbers ──────────────────────────────────────────────────────────────────


def test_the_vendors_numbers_are_translated_and_an_undeclared_number_is_a_named_validation_error(
    rest_world: Any,
) -> None:
    sims = rest_world[0]
    source = _rest(rest_world)
    ref = _feed(source, "518", _since(sims))[0]
    record = source.get_dossier("518", ref.dossier_code, seen=ref)
    assert record["TrangThai"] == sims.source_copy("518", ref.dossier_code).TrangThai  # 0-9 became 1-10
    vendor = load_profile(FIELD_VENDORS_DIR / "truongson.yaml")
    raw = dict(source.raw_dossier("518", ref.dossier_code, source_id=ref.source_id), status_code=10, channel_code=2)
    default = to_default(raw, vendor, feed=feed_of(ref))
    assert source.units.translate(default) == []
    with pytest.raises(ValidationFailed) as caught:
        motcua.to_canonical(default, procedures=_none)
    problems = {p.path: str(p) for p in caught.value.problems}
    # 10 is a national status and 2 a national channel, but not this vendor's: never read as if they were
    assert set(problems) == {"TrangThai", "KenhThucHien"}
    assert "codes.status" in problems["TrangThai"] and "codes.channel" in problems["KenhThucHien"]


# ── point 6: a dossier fetched by the platform's own id, known by its code ────────────────────────────────────────


def test_the_dossier_is_asked_by_the_platforms_id_and_known_by_its_code(rest_world: Any) -> None:
    sims = rest_world[0]
    log = ExchangeLog()
    source = _rest(rest_world, log)
    ref = _feed(source, "513", _since(sims))[0]
    # the feed gives both: the object id to ask with, the dossier code the hub keys everything by
    assert ref.source_id is not None and ref.source_id != ref.dossier_code
    assert parse_dossier_code(ref.dossier_code).agency_id == "000.00.13.H47"
    source.get_dossier("513", ref.dossier_code, seen=ref)
    assert log.take()[-1].endpoint.endswith(f"/api/v3/dossiers/{ref.source_id}")
    # without the feed's entry there is no id to ask with: a named refusal, not a request by the wrong key
    with pytest.raises(RemoteRejected, match="poll the unit again") as caught:
        source.get_dossier("513", ref.dossier_code)
    assert caught.value.dossier_code == ref.dossier_code
    # an id the platform does not know: its error code read from its own envelope ({"error": {"code": ...}})
    with pytest.raises(RemoteRejected) as missing:
        source.raw_dossier("513", ref.dossier_code, source_id="f" * 24)
    assert (missing.value.status_code, missing.value.error_code) == (404, "NOT_FOUND")


# ── point 7: processing steps whose state is a task state ─────────────────────────────────────────────────────────


def test_step_statuses_come_from_the_step_state_table_when_the_profile_says_so() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "truongson.yaml").model_copy(update={"steps": StepStatus(source="table")})
    record = {"status_code": 3, "tasks": [{"task_state": 2}, {"task_state": 1}, {"task_state": 7}]}
    default = to_default(record, vendor)
    states = [step["TrangThai"] for step in default["DanhSachTienDo"]["TienDo"]]
    assert states[:2] == [Status.DONE.value, Status.PROCESSING.value] and default["TrangThai"] == Status.PROCESSING
    assert isinstance(states[2], Undeclared)  # a task state the table does not declare


def test_without_a_history_entry_before_it_a_step_has_no_status_and_the_mapping_names_it() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "truongson.yaml")
    record = {"tasks": [{"performed_at": 1709312400000}], "status_history": [{"status_code": 3, "changed_at": 1}]}
    assert to_default(record, vendor)["DanhSachTienDo"]["TienDo"][0]["TrangThai"] == Status.PROCESSING
    record["status_history"][0]["changed_at"] = 1809312400000  # the only status change is after the step
    assert to_default(record, vendor)["DanhSachTienDo"]["TienDo"][0]["TrangThai"] is None


# ── SOAP answer paths (#22, point 6 / Done-when 6) ──────────────────────────────────────────────────────────


def test_a_one_element_health_answer_that_zeep_unwraps_to_a_bare_value_is_checked_by_its_path(
    world: Any, tmp_path: Path
) -> None:
    # Phương Nam's KiemTraDichVuResponse holds one simple element (tinhTrangDichVu): zeep hands back "HOAT_DONG"
    _, topology = world
    healthy = registry.build_source(topology.systems["motcua-tamky"]).health()
    assert healthy.ok and healthy.detail == "HOAT_DONG"
    # the same answer under a profile whose healthy word is another is read by the same path, and is not healthy
    data = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    data["responses"]["health"]["ok"] = ["SAN_SANG"]
    path = tmp_path / "phuongnam-strict.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    system = topology.systems["motcua-tamky"]
    strict = system.model_copy(update={"name": "motcua-tamky-strict", "options": {"vendor_file": str(path)}})
    unhealthy = registry.build_source(strict).health()
    assert not unhealthy.ok and unhealthy.detail == "HOAT_DONG"
