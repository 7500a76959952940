"""``dvc-hub vendor probe`` against each simulated vendor, a broken profile, and a saved record offline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cli.main import app
from connectors.errors import AuthenticationFailed
from connectors.soap import forget_wsdl_documents
from foundation.settings import Settings
from foundation.topology import Topology, load
from mappings.codes import Status
from mappings.vendors import FIELD_VENDORS_DIR, load_profile, unread_paths
from simulators.server import Simulators
from systems import registry
from systems.probe import CREDENTIAL_KEYS, FEED_KEYS, SHOWN_ITEMS, probe, refused_finding, shortened
from tests.conftest import TOPOLOGIES

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mappings"
SERVED = [("motcua-quangnam", "20965"), ("motcua-tamky", "502"), ("motcua-hoian", "503"), ("motcua-dienban", "507")]


@pytest.fixture(scope="module")
def world(
    start_simulators: type[Simulators], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulators, Path]]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=9, dossiers=200) as sims:
        yield sims, sims.topology_file(tmp_path_factory.mktemp("probe") / "topology.yaml")


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for ref in ("MOTCUA_QUANGNAM", "MOTCUA_TAMKY", "MOTCUA_HOIAN", "MOTCUA_DIENBAN", "MOTCUA_THANGBINH"):
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", "hub-secret")
    registry.reset()
    forget_wsdl_documents()
    yield
    registry.reset()


def _settings() -> Settings:
    return Settings(_env_file=None)


def _topology(world: Any) -> Topology:
    return load(world[1])


@pytest.mark.parametrize(("system", "unit"), SERVED)
def test_the_probe_reads_each_vendors_feed_and_dossier_and_masks_the_applicant(
    world: Any, system: str, unit: str
) -> None:
    sims, _ = world
    report = probe(_topology(world).systems[system], _settings(), unit=unit, since=sims.now() - timedelta(days=30))
    assert report.ok, report.findings
    assert report.feed and report.dossier_code == report.feed[0].dossier_code
    assert report.canonical is not None and report.canonical["code"] == report.dossier_code
    applicant = sims.source_copy(unit, report.dossier_code).ChuHoSo
    shown = repr(report.raw) + repr(report.canonical)
    for value in (applicant.SoGiayTo, applicant.SoDienThoai, applicant.Email, applicant.DiaChi):
        assert value is None or value not in shown
    # The applicant's name must not show in any applicant field. The dossier's summary (TrichYeu), free text that
    # the simulators fill with the applicant's name, is not personal for the product today (the console shows it):
    # a product-wide decision left to foundation/redaction.py, reported on issue 12.
    assert report.canonical["applicant"]["name"] == "***"
    assert applicant.HoTen not in repr({k: v for k, v in report.canonical.items() if k != "summary"})
    assert report.unread == []  # every field the vendor sends is read by its profile


def test_a_broken_profile_is_reported_with_the_keys_to_fix(world: Any, tmp_path: Path) -> None:
    sims, _ = world
    data = yaml.safe_load((FIELD_VENDORS_DIR / "phuongnam.yaml").read_text(encoding="utf-8"))
    data["record"]["fields"]["MaThuTuc"] = "thuTuc.maThuTuc"  # the vendor calls it maTTHC
    del data["codes"]["status"]  # the vendor's status words are now unknown
    broken = tmp_path / "phuongnam-draft.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    system = _topology(world).systems["motcua-tamky"]
    system = system.model_copy(update={"options": {"vendor_file": str(broken)}})

    report = probe(system, _settings(), unit="502", since=sims.now() - timedelta(days=30))

    assert not report.ok and report.canonical is None
    by_field = {f.where: f.keys for f in report.findings}
    assert "record.fields.MaThuTuc" in by_field["MaThuTuc"]
    assert "codes.status" in by_field["TrangThai"]
    assert "thuTuc.maTTHC" in report.unread


def test_an_invalid_profile_is_reported_before_any_call(world: Any, tmp_path: Path) -> None:
    data = yaml.safe_load((FIELD_VENDORS_DIR / "bachdang.yaml").read_text(encoding="utf-8"))
    data["paging"] = {"style": "pages"}
    broken = tmp_path / "bachdang-draft.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    system = _topology(world).systems["motcua-hoian"].model_copy(update={"options": {"vendor_file": str(broken)}})
    report = probe(system, _settings(), unit="503", since=world[0].now())
    assert [f.where for f in report.findings] == ["profile"]
    assert str(broken) in report.findings[0].message and "paging.style" in report.findings[0].message


@pytest.mark.parametrize(
    ("system", "saved", "personal"),
    [
        ("motcua-tamky", "phuongnam-rich.xml", ("049179964251", "0729513989")),
        ("motcua-hoian", "bachdang-rich.json", ("049171444467", "0578032358")),
    ],
)
def test_the_cli_probes_a_saved_record_offline(
    world: Any, tmp_path: Path, system: str, saved: str, personal: tuple[str, ...]
) -> None:
    # Given a topology whose SOAP system reads its WSDL from a file, and nothing listening at its address
    spec = yaml.safe_load(world[1].read_text(encoding="utf-8"))
    for entry in spec["systems"]:
        entry["base_url"] = "http://127.0.0.1:9/offline"
        if entry["name"] == "motcua-tamky":
            entry["options"]["wsdl"] = str(ROOT / "simulators" / "contracts" / "phuongnam" / "phuongnam.wsdl")
    topology_file = tmp_path / "offline.yaml"
    topology_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["vendor", "probe", system, "--record", str(FIXTURES / saved), "--topology", str(topology_file)],
        env={"COLUMNS": "200"},
    )
    # Then the record maps, except for the change time a saved record alone cannot give for a vendor without one
    assert "***" in result.output and not any(value in result.output for value in personal)
    if system == "motcua-hoian":
        assert result.exit_code == 0, result.output
        assert '"code"' in result.output
    else:
        assert result.exit_code == 1
        assert "record.from_feed.NgayCapNhat" in result.output


@pytest.mark.parametrize(
    ("system", "unit", "fault", "element"),
    [
        ("motcua-tamky", "502", "phuongnam:TraCuuBienDong", "thoiDiemSua"),
        ("motcua-hoian", "503", "bachdang:changes", "revision"),
        ("motcua-dienban", "507", "thubon:GetChangedDossiers", "PHIEN_BAN"),
    ],
)
def test_an_unreadable_feed_entry_fails_the_probe_by_name_without_a_traceback(
    world: Any, system: str, unit: str, fault: str, element: str
) -> None:
    sims, topology_file = world
    since = (sims.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S%z")
    sims.set_fault(fault, feed_unreadable_rate=1.0)
    try:
        report = probe(_topology(world).systems[system], _settings(), unit=unit, since=sims.now() - timedelta(days=30))
        result = CliRunner().invoke(
            app,
            ["vendor", "probe", system, "--unit", unit, "--since", since, "--topology", str(topology_file)],
            env={"COLUMNS": "200"},
        )
    finally:
        sims.clear_faults(fault)
    # the entry is named by its place, its element and its dossier; the rest of the page is read
    [finding] = [f for f in report.findings if f.where.startswith("changes[")]
    assert finding.where.endswith(f".{element}") and "responses.changes" in finding.keys
    assert report.feed and not report.ok
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"changes[0].{element}" in result.output


def test_refused_credentials_show_the_vendors_own_words_and_point_at_the_credentials(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sims, topology_file = world
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD", "wrong-password-123")
    since = sims.now() - timedelta(days=30)
    report = probe(_topology(world).systems["motcua-quangnam"], _settings(), unit="20965", since=since)
    result = CliRunner().invoke(
        app,
        ["vendor", "probe", "motcua-quangnam", "--unit", "20965", "--topology", str(topology_file)],
        env={"COLUMNS": "250"},
    )
    [finding] = report.findings
    assert finding.where == "changes" and finding.keys == CREDENTIAL_KEYS
    assert "Sai tên đăng nhập hoặc mật khẩu" in finding.message  # the simulated vendor's own refusal
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Sai tên đăng nhập hoặc mật khẩu" in result.output and "faults.auth" in result.output
    assert "wrong-password-123" not in result.output


def test_the_vendors_words_are_masked_before_the_probe_shows_them() -> None:
    refused = AuthenticationFailed(
        "refused", remote_message="Sai mật khẩu cho 0905 123 456 (Authorization: Basic aHViOmh1Yi1zZWNyZXQ=)"
    )
    finding = refused_finding("changes", refused, FEED_KEYS)
    assert "Sai mật khẩu cho ***" in finding.message
    assert "0905" not in finding.message and "aHViOmh1Yi1zZWNyZXQ=" not in finding.message


def test_show_paths_lists_the_answers_paths_with_the_keys_they_need_and_no_values(world: Any) -> None:
    sims, topology_file = world
    since = (sims.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S%z")
    args = ["vendor", "probe", "motcua-dienban", "--unit", "507", "--since", since, "--topology", str(topology_file)]
    result = CliRunner().invoke(app, [*args, "--show-paths"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "GetChangedDossiersResult  → DataSet: items: GetChangedDossiersResult, dataset: Table" in result.output
    assert "GetDossierResult  → record in text: record: {path: GetDossierResult, xml_string: true}" in result.output
    assert "CONG_DAN.HO_TEN  (str)" in result.output and "_value_1" not in result.output
    without = CliRunner().invoke(app, args, env={"COLUMNS": "250"})
    assert without.exit_code == 0 and "GetChangedDossiersResult" not in without.output


# ── issue 21: the probe tells the truth about a REST platform ───────────────────────────────────────────────


def _rest_settings(world: Any) -> Settings:
    return Settings(_env_file=None, topology_file=world[1])


def _cli(world: Any, *args: str, topology: Path | None = None) -> Any:
    return CliRunner().invoke(
        app,
        ["vendor", "probe", "motcua-thangbinh", *args, "--topology", str(topology or world[1])],
        env={"COLUMNS": "250"},
    )


def _with_options(world: Any, tmp_path: Path, **options: Any) -> Path:
    """The simulators' topology with ``options`` over the REST platform's system entry."""
    spec = yaml.safe_load(world[1].read_text(encoding="utf-8"))
    for entry in spec["systems"]:
        if entry["name"] == "motcua-thangbinh":
            entry["options"] = {**entry["options"], **options}
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def test_the_probe_lists_every_coded_value_with_its_national_meaning(world: Any) -> None:
    sims = world[0]
    report = probe(
        _topology(world).systems["motcua-thangbinh"],
        _rest_settings(world),
        unit="513",
        since=sims.now() - timedelta(30),
    )
    assert report.ok, report.findings
    assert report.unit_sent == "000.00.13.H47"
    status = [c for c in report.coded if c.table == "status"]
    assert status and all(c.national == int(c.vendor) + 1 for c in status)
    assert {c.table for c in report.coded} >= {"status", "channel", "applicant_type"}
    result = _cli(world, "--unit", "513", "--since", f"{sims.now() - timedelta(days=30):%Y-%m-%dT%H:%M:%S%z}")
    assert result.exit_code == 0, result.output
    assert "coded values" in result.output and Status(int(str(status[0].national))).label in result.output


def test_an_empty_feed_fails_the_probe_naming_the_unit_as_it_was_asked_for(world: Any) -> None:
    sims = world[0]
    # Given a period in which the unit changed nothing
    since = sims.now() + timedelta(days=1)
    report = probe(_topology(world).systems["motcua-thangbinh"], _rest_settings(world), unit="518", since=since)
    [finding] = report.findings
    assert not report.ok and "'000.00.18.H47'" in finding.message and "agency_id" in finding.message
    assert "units[].agency_id" in finding.keys
    result = _cli(world, "--unit", "518", "--since", f"{since:%Y-%m-%dT%H:%M:%S%z}")
    assert result.exit_code == 1 and "'000.00.18.H47'" in result.output and "Traceback" not in result.output


def test_a_wrong_unit_identity_fails_the_probe_naming_the_key_to_change(world: Any, tmp_path: Path) -> None:
    # Given the platform's system configured as if it named units by their GSO codes
    topology = _with_options(world, tmp_path, unit_identity="gso")
    since = f"{world[0].now() - timedelta(days=30):%Y-%m-%dT%H:%M:%S%z}"
    result = _cli(world, "--unit", "513", "--since", since, topology=topology)
    # Then the probe does not say OK on the empty answer: it says what it sent and where to change it
    assert result.exit_code == 1, result.output
    assert "'513'" in result.output and "(gso naming)" in result.output
    assert "systems.motcua-thangbinh.options.unit_identity" in result.output


def test_an_undeclared_numeric_status_fails_the_probe_naming_the_code_table(world: Any, tmp_path: Path) -> None:
    sims = world[0]
    data = yaml.safe_load((FIELD_VENDORS_DIR / "truongson.yaml").read_text(encoding="utf-8"))
    data["codes"]["status"] = {1: [0]}  # only "submitted" declared: every other number is unknown
    profile_file = tmp_path / "truongson-partial.yaml"
    profile_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    topology = _with_options(world, tmp_path, vendor_file=str(profile_file))
    settings = Settings(_env_file=None, topology_file=topology)
    since = sims.now() - timedelta(days=30)
    report = probe(load(topology).systems["motcua-thangbinh"], settings, unit="513", since=since)
    finding = next(f for f in report.findings if f.where == "TrangThai")
    assert "codes.status" in finding.message and "codes.status" in finding.keys
    assert any(c.table == "status" and c.national is None for c in report.coded)
    result = _cli(world, "--unit", "513", "--since", f"{since:%Y-%m-%dT%H:%M:%S%z}", topology=topology)
    assert result.exit_code == 1 and "codes.status" in result.output and "undeclared" in result.output


def test_the_token_servers_refusal_is_shown_redacted(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_THANGBINH_PASSWORD", "wrong-secret-0905123456")
    result = _cli(world, "--unit", "513")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "invalid_client" in result.output and "/oauth2/token" in result.output
    assert "wrong-secret-0905123456" not in result.output


def test_the_probe_finds_code_on_a_later_feed_page(world: Any, tmp_path: Path) -> None:
    sims = world[0]
    topology = _with_options(world, tmp_path, page_size=2)
    since = sims.now() - timedelta(days=60)
    system = load(topology).systems["motcua-thangbinh"]
    settings = Settings(_env_file=None, topology_file=topology)
    first = probe(system, settings, unit="518", since=since)
    assert first.next_token is not None and len(first.feed) == 2  # a page of two: more pages follow
    late = sorted(sims.store.records("518"), key=lambda r: r.NgayCapNhat)[-1].MaHoSo
    report = probe(system, settings, unit="518", since=since, code=late)
    assert report.ok, report.findings  # no false "NgayCapNhat: Field required": the entry was found
    assert report.dossier_code == late and len(report.feed) > 2


def test_long_values_and_long_lists_are_cut_in_the_report() -> None:
    record = {"note": "x" * 5000, "attachments": [{"id": i} for i in range(40)]}
    shown = shortened(record)
    assert len(shown["note"]) < 300 and "5000" in shown["note"]
    assert len(shown["attachments"]) == SHOWN_ITEMS + 1 and "35" in shown["attachments"][-1]


def test_an_unread_path_is_reported_once_not_once_per_list_item() -> None:
    vendor = load_profile(FIELD_VENDORS_DIR / "bachdang.yaml")
    record = {"attachments": [{"id": "1", "content": "AAAA"}, {"id": "2", "content": "BBBB"}, {"content": "C"}]}
    assert unread_paths(record, vendor) == ["attachments.content"]


def test_a_record_over_the_size_cap_points_at_the_systems_cap(world: Any, tmp_path: Path) -> None:
    sims = world[0]
    topology = _with_options(world, tmp_path, max_answer_bytes=1024, page_size=1)  # feed pages under the cap
    settings = Settings(_env_file=None, topology_file=topology)
    report = probe(load(topology).systems["motcua-thangbinh"], settings, unit="513", since=sims.now() - timedelta(30))
    [finding] = report.findings
    assert finding.where == "dossier" and "1024" in finding.message
    assert finding.keys[0] == "systems.motcua-thangbinh.options.max_answer_bytes"
