"""The six gaps a second vendor's contract exposed (issue 12), each closed by a profile feature and nothing else.

Phương Nam's SOAP service and Bạch Đằng's JSON API (``simulators/``) serve the same data world as the default
contract's service, so the default contract's record of a dossier is the oracle: a vendor's record, read through its
profile, must map to the same canonical dossier. Records are chosen to break the rules: times near midnight, where
local time and UTC fall on different days; dates the vendor does not know (``01/01/0001 00:00:00``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.base import ChangeRef
from connectors.changes import request_body
from connectors.errors import RemoteRejected
from connectors.recording import ExchangeLog
from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError
from foundation.topology import System, Topology, load
from mappings.codes import Status
from mappings.errors import ValidationFailed
from mappings.tables import tables
from mappings.vendors import VENDORS_DIR, ChangesRequest, load_profile, to_default
from simulators.phuongnam import UNKNOWN_TIME
from simulators.server import Simulators
from systems import registry
from systems.motcua import mapping as motcua
from tests.conftest import TOPOLOGIES

SYSTEMS = ("MOTCUA_QUANGNAM", "MOTCUA_TAMKY", "MOTCUA_HOIAN")


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
    data = yaml.safe_load((VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
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
    vendor_word = load_profile(VENDORS_DIR / "phuongnam.yaml").codes["status"][expected.value][0]
    with pytest.raises(ValueError, match="status"):
        tables().status.parse(vendor_word)


def test_vendor_code_tables_layer_over_the_packaged_ones() -> None:
    vendor = load_profile(VENDORS_DIR / "phuongnam.yaml")
    record = {"tinhTrang": "dang_xu_ly", "kenhNop": " dich_vu_cong ", "nguoiNop": {"doiTuong": "CA_NHAN"}}
    default = to_default(record, vendor)
    # a packaged spelling still reads (via the packaged table), the vendor's spellings become numbers
    assert tables().status.parse(default["TrangThai"]) is Status.PROCESSING
    assert default["KenhThucHien"] == 2 and default["ChuHoSo"]["LoaiDoiTuong"] == 1


def test_unknown_dates_written_as_a_sentinel_become_empty() -> None:
    vendor = load_profile(VENDORS_DIR / "phuongnam.yaml")
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
    data = yaml.safe_load((VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
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
    data = yaml.safe_load((VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
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


# ── SOAP answer paths (#22, point 6 / Done-when 6) ──────────────────────────────────────────────────────────


def test_a_one_element_health_answer_that_zeep_unwraps_to_a_bare_value_is_checked_by_its_path(
    world: Any, tmp_path: Path
) -> None:
    # Phương Nam's KiemTraDichVuResponse holds one simple element (tinhTrangDichVu): zeep hands back "HOAT_DONG"
    _, topology = world
    healthy = registry.build_source(topology.systems["motcua-tamky"]).health()
    assert healthy.ok and healthy.detail == "HOAT_DONG"
    # the same answer under a profile whose healthy word is another is read by the same path, and is not healthy
    data = yaml.safe_load((VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    data["responses"]["health"]["ok"] = ["SAN_SANG"]
    path = tmp_path / "phuongnam-strict.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    system = topology.systems["motcua-tamky"]
    strict = system.model_copy(update={"name": "motcua-tamky-strict", "options": {"vendor_file": str(path)}})
    unhealthy = registry.build_source(strict).health()
    assert not unhealthy.ok and unhealthy.detail == "HOAT_DONG"
