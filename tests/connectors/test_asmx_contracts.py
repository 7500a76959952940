"""An ASP.NET (ASMX) one-stop-shop service read by configuration alone (issue 29): each point closed by a profile
feature, against Thu Bồn's simulated service (``simulators/thubon.py``), with the default contract's record of the same
dossier as the oracle. The service authenticates by an ``AuthHeader`` SOAP header, answers its feed as a .NET DataSet
and its record as an escaped XML string, and faults with an empty ``<detail />``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
import yaml
from pydantic import SecretStr, ValidationError

from connectors.answer_paths import answer_paths
from connectors.auth import BasicAuth
from connectors.base import ChangeRef
from connectors.embedded import UnreadableText, parse_json_text, parse_xml_text
from connectors.errors import AuthenticationFailed, RemoteNotFound, RemoteRejected, RemoteUnavailable, UnreadableAnswer
from connectors.protection import BreakerState, CircuitBreaker
from connectors.recording import ExchangeLog, redact_body
from foundation.clock import VN_TZ
from foundation.credentials import Credentials
from foundation.errors import ConfigurationError
from foundation.topology import Topology, load
from mappings.vendors import FIELD_VENDORS_DIR, VendorProfile, load_profile, profile, to_default
from simulators.server import Simulators
from simulators.thubon import AUTH_REFUSED, CONTRACT, MIN_VALUE
from systems import registry
from systems.motcua import mapping as motcua
from systems.motcua.connector import SoapConnector
from systems.probe import probe
from systems.restjson.connector import JsonConnector
from tests.conftest import TOPOLOGIES
from tests.connectors.conftest import endpoint

SYSTEM = "motcua-dienban"
UNITS = ("507", "508")
ASMX_URL = "http://asmx.test/thubon/DichVuHoSo.asmx"
ONE_FIELD = "&lt;HO_SO&gt;&lt;MA_HO_SO&gt;A-1&lt;/MA_HO_SO&gt;&lt;/HO_SO&gt;"


def _none(local_code: str) -> None:
    return None


@pytest.fixture(scope="module")
def world(
    start_simulators: type[Simulators], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Simulators, Topology]]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=29, dossiers=300) as sims:
        yield sims, load(sims.topology_file(tmp_path_factory.mktemp("asmx") / "topology.yaml"))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for ref in ("MOTCUA_QUANGNAM", "MOTCUA_DIENBAN"):
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
    record = registry.build_source(topology.systems["motcua-quangnam"]).get_dossier(unit, code)
    return motcua.to_canonical(record, procedures=_none).model_dump(mode="json")


def _without_component_codes(dossier: dict[str, Any]) -> dict[str, Any]:
    """The vendor keeps no attachment component codes (the portal does not require them): the one known difference."""
    return {**dossier, "files": [{**f, "component_code": None} for f in dossier["files"]]}


def _variant(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((FIELD_VENDORS_DIR / "thubon.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "thubon-variant.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _with_vendor_file(topology: Topology, path: Path) -> Any:
    system = topology.systems[SYSTEM]
    return system.model_copy(update={"options": {**system.options, "vendor_file": str(path)}})


# ── the oracle: every dossier of the vendor's units maps as the default contract's record does ───────────────


@pytest.mark.parametrize("port", ["DichVuHoSoSoap", "DichVuHoSoSoap12"], ids=["soap11", "soap12"])
def test_every_dossier_maps_to_the_same_canonical_dossier_as_the_default_contracts(
    world: Any, port: str, tmp_path: Path
) -> None:
    sims, topology = world
    log = ExchangeLog()
    source = registry.build_source(_with_vendor_file(topology, _variant(tmp_path, port=port)), recorder=log)
    checked = steps = businesses = posted = 0
    for unit in UNITS:
        refs = _feed(source, unit, sims.now() - timedelta(days=60))
        assert {r.dossier_code for r in refs} == {r.MaHoSo for r in sims.store.records(unit)}
        for ref in refs:
            dossier = motcua.to_canonical(source.get_dossier(unit, ref.dossier_code, seen=ref), procedures=_none)
            seen = dossier.model_dump(mode="json")
            assert seen == _without_component_codes(_oracle(topology, unit, ref.dossier_code))
            checked += 1
            steps += len(dossier.progress)
            businesses += dossier.applicant.kind.value != 1
            posted += dossier.return_method is not None and dossier.return_method.value == 1
    # the record's lists came through, and the values the vendor writes only when unusual were met both ways
    assert checked > 20 and steps > checked and businesses > 0 and posted > 0
    envelope = "http://www.w3.org/2003/05/soap-envelope" if port.endswith("12") else "http://schemas.xmlsoap.org/"
    assert all(envelope in exchange.request for exchange in log.take())


# ── point 1: a custom SOAP header from the credentials, never recorded ───────────────────────────────────────


def test_the_auth_header_goes_out_with_the_credentials_and_is_cut_from_the_recording(world: Any) -> None:
    sims, topology = world
    log = ExchangeLog()
    source = registry.build_source(topology.systems[SYSTEM], recorder=log)
    assert _feed(source, "507", sims.now() - timedelta(days=60))  # the vendor refuses a call without the header
    for exchange in log.take():
        assert "hub-secret" not in exchange.request
        assert "AuthHeader" not in exchange.request and "Security" not in exchange.request
        assert "GetChangedDossiers" in exchange.request


def test_the_viewers_copy_of_a_recorded_answer_masks_the_record_text_whole(world: Any) -> None:
    sims, topology = world
    log = ExchangeLog()
    source = registry.build_source(topology.systems[SYSTEM], recorder=log)
    record = sims.store.records("507")[0]
    source.get_dossier("507", record.MaHoSo)
    [exchange] = log.take()
    assert record.ChuHoSo.HoTen in str(exchange.response)  # the raw copy (kept apart, for the record's owners)
    shown = str(redact_body(exchange.response, personal=exchange.personal))
    assert "GetDossierResult" in shown and record.ChuHoSo.HoTen not in shown and record.MaHoSo not in shown


def test_a_profile_sends_its_header_beside_ws_security_when_it_says_both(tmp_path: Path) -> None:
    vendor = profile("thubon").model_copy(update={"ws_security": True})
    log = ExchangeLog()
    creds = Credentials("hub", SecretStr("s3cret-pass"))
    connector = SoapConnector(endpoint(ASMX_URL, log), vendor, creds, wsdl=str(CONTRACT))
    with responses.RequestsMock() as wire:
        wire.add(
            responses.POST,
            ASMX_URL,
            status=200,
            body=_dossier_answer(ONE_FIELD),
        )
        assert connector.raw_dossier("507", "A-1") == {"MA_HO_SO": "A-1"}
        sent = wire.calls[0].request.body
    sent = sent.decode() if isinstance(sent, bytes) else str(sent)
    assert "UsernameToken" in sent and "s3cret-pass" in sent
    assert '<AuthHeader xmlns="http://tempuri.org/"><UserName>hub</UserName><Password>s3cret-pass</Password>' in sent
    [recorded] = log.take()
    assert "s3cret-pass" not in recorded.request and "AuthHeader" not in recorded.request
    assert "UsernameToken" not in recorded.request and "GetDossier" in recorded.request


def test_a_header_without_fields_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = _variant(tmp_path, headers=[{"element": "AuthHeader", "fields": {}}])
    with pytest.raises(ConfigurationError, match=r"headers\.0\.fields"):
        load_profile(path)


def test_a_wrong_password_parks_at_once_as_credentials_with_the_circuit_closed_and_the_probe_says_why(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the vendor's refusal of a wrong password: a *server* fault "Sai thông tin xác thực", detail empty
    sims, topology = world
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_DIENBAN_PASSWORD", "wrong-password-123")
    log = ExchangeLog()
    source = registry.build_source(topology.systems[SYSTEM], recorder=log)
    breaker = CircuitBreaker(failure_threshold=1, cooldown=600)
    source.endpoint.breaker = breaker  # type: ignore[attr-defined]
    # When it is called twice
    errors = []
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as caught:
            source.fetch_changes("507", sims.now() - timedelta(days=1))
        errors.append(caught.value)
    # Then each call went out once, parks (never retried with the same password), and the circuit stays closed
    assert len(log.take()) == 2
    assert all(e.error_class == "authentication_failed" and e.action.value == "park" for e in errors)
    assert AUTH_REFUSED in str(errors[0].remote_message)
    assert all(status.state is BreakerState.CLOSED for status in breaker.snapshot())
    # And the probe names the credentials and repeats the vendor's own reason, without the password
    report = probe(topology.systems[SYSTEM], None, unit="507", since=sims.now() - timedelta(days=30))  # type: ignore[arg-type]
    [finding] = report.findings
    assert AUTH_REFUSED in finding.message and "wrong-password-123" not in finding.message
    assert finding.keys[0].startswith("the system's credentials")


# ── point 2: the record as an escaped XML string (or JSON text), parsed hardened ─────────────────────────────


def _dossier_answer(inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soap:Body><GetDossierResponse xmlns="http://tempuri.org/">'
        f"<GetDossierResult>{inner}</GetDossierResult></GetDossierResponse></soap:Body></soap:Envelope>"
    )


def _offline(vendor: Any = None) -> tuple[SoapConnector, ExchangeLog]:
    log = ExchangeLog()
    creds = Credentials("hub", SecretStr("hub-secret"))
    return SoapConnector(endpoint(ASMX_URL, log), vendor or profile("thubon"), creds, wsdl=str(CONTRACT)), log


@pytest.mark.parametrize(
    ("inner", "said"),
    [
        ("&lt;HO_SO&gt;&lt;MA_HO_SO&gt;A-1&lt;/MA_HO", "malformed XML string"),
        (
            "&lt;!DOCTYPE HO_SO [&lt;!ENTITY x 'y'&gt;]&gt;"
            "&lt;HO_SO&gt;&lt;MA_HO_SO&gt;&amp;x;&lt;/MA_HO_SO&gt;&lt;/HO_SO&gt;",
            "DTD",
        ),
        ("not xml at all", "malformed XML string"),
        ("", "no record in the answer"),
    ],
    ids=["truncated", "dtd-and-entity", "plain-text", "empty"],
)
def test_a_record_string_that_cannot_be_read_is_a_named_problem_of_that_dossier(inner: str, said: str) -> None:
    connector, _ = _offline()
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, ASMX_URL, status=200, body=_dossier_answer(inner))
        with pytest.raises((UnreadableAnswer, RemoteRejected)) as caught:
            connector.get_dossier("507", "000.00.07.H47-231002-0001")
    error = caught.value
    assert error.action.value == "park"
    assert error.dossier_code == "000.00.07.H47-231002-0001"
    assert said in str(error.remote_message)
    if said != "no record in the answer":
        assert "GetDossierResult (responses.dossier.record)" in str(error.remote_message)


def test_a_record_sent_as_text_to_a_profile_without_xml_string_says_which_key_reads_it() -> None:
    data = profile("thubon").model_dump(mode="json", exclude={"source"})
    data["responses"]["dossier"]["record"] = "GetDossierResult"  # a first draft: the path alone
    connector, _ = _offline(VendorProfile.model_validate(data))
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, ASMX_URL, status=200, body=_dossier_answer(ONE_FIELD))
        with pytest.raises(RemoteRejected) as caught:
            connector.get_dossier("507", "A-1")
    assert "responses.dossier.record.xml_string: true" in str(caught.value.remote_message)


def test_a_record_string_over_the_size_cap_is_refused() -> None:
    # The escaped answer is always larger than the text it holds, so the endpoint's cap meets it first; the text's
    # own cap stands for a record that arrives another way (a saved answer, a compressed one).
    text = "<HO_SO><GHI_CHU>" + "x" * 3000 + "</GHI_CHU></HO_SO>"
    assert parse_xml_text(text, max_bytes=4096) == {"GHI_CHU": "x" * 3000}
    with pytest.raises(UnreadableText, match="over the cap"):
        parse_xml_text(text, max_bytes=2048)
    with pytest.raises(UnreadableText, match="over the cap"):
        parse_json_text('{"a": "' + "x" * 3000 + '"}', max_bytes=2048)


def test_a_record_given_as_json_text_is_read_with_json_string() -> None:
    data = profile("thubon").model_dump(mode="json", exclude={"source"})
    data["responses"]["dossier"]["record"] = {"path": "GetDossierResult", "json_string": True}
    vendor = VendorProfile.model_validate(data)
    connector, _ = _offline(vendor)
    text = '{"MA_HO_SO": "A-1", "TRANG_THAI": "ĐANG XỬ LÝ", "CONG_DAN": {"HO_TEN": "Nguyễn Văn A"}}'
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, ASMX_URL, status=200, body=_dossier_answer(text.replace('"', "&quot;")))
        record = connector.get_dossier("507", "A-1")
    assert record["MaHoSo"] == "A-1" and record["TrangThai"] == 4
    assert record["ChuHoSo"] == {"HoTen": "Nguyễn Văn A", "LoaiDoiTuong": "1"}
    data["responses"]["dossier"]["record"] = {"path": "X", "json_string": True, "xml_string": True}
    with pytest.raises(ValidationError, match="either xml_string or json_string"):
        VendorProfile.model_validate(data)


def test_a_json_vendors_record_in_json_text_is_read_the_same_way() -> None:
    # Given Bạch Đằng's JSON API, as a gateway that wraps each record as a JSON string would answer
    data = profile("bachdang").model_dump(mode="json", exclude={"source"})
    data["responses"]["dossier"]["record"] = {"path": "data", "json_string": True}
    vendor = VendorProfile.model_validate(data)
    url = "http://json.test/bachdang"
    connector = JsonConnector(
        endpoint(url, ExchangeLog()), vendor, BasicAuth(Credentials("hub", SecretStr("hub-secret")))
    )
    with responses.RequestsMock() as wire:
        wire.add(responses.GET, f"{url}/api/v2/dossiers/A-1", json={"data": '{"dossierId": "A-1"}'})
        wire.add(responses.GET, f"{url}/api/v2/dossiers/A-2", json={"data": '{"dossierId": "A-2", '})
        # When it reads a whole record and a cut one
        assert connector.raw_dossier("503", "A-1") == {"dossierId": "A-1"}
        with pytest.raises(UnreadableAnswer) as caught:
            connector.raw_dossier("503", "A-2")
    # Then the cut one is that dossier's named problem
    assert caught.value.dossier_code == "A-2" and "malformed JSON string" in str(caught.value.remote_message)


# ── point 3: a DataSet feed, read by its table's name ───────────────────────────────────────────────────────


def test_the_dataset_feed_gives_every_dossier_with_its_revision_and_time(world: Any) -> None:
    sims, topology = world
    refs = _feed(registry.build_source(topology.systems[SYSTEM]), "508", sims.now() - timedelta(days=60))
    copies = {r.MaHoSo: r for r in sims.store.records("508")}
    assert len(refs) == len(copies) > 5
    for ref in refs:
        assert ref.version == copies[ref.dossier_code].PhienBan
        assert ref.updated_at == copies[ref.dossier_code].NgayCapNhat.replace(microsecond=0)
    assert "_value_1" not in (FIELD_VENDORS_DIR / "thubon.yaml").read_text(encoding="utf-8")


def _dataset_answer(rows: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soap:Body><GetChangedDossiersResponse xmlns="http://tempuri.org/"><GetChangedDossiersResult>'
        '<xs:schema id="NewDataSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:msdata="urn:schemas-microsoft-com:xml-msdata"><xs:element name="NewDataSet" msdata:IsDataSet="true">'
        '<xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded"><xs:element name="Table"><xs:complexType>'
        '<xs:sequence><xs:element name="MA_HO_SO" type="xs:string" minOccurs="0"/></xs:sequence></xs:complexType>'
        "</xs:element></xs:choice></xs:complexType></xs:element></xs:schema>"
        '<diffgr:diffgram xmlns:msdata="urn:schemas-microsoft-com:xml-msdata" '
        f'xmlns:diffgr="urn:schemas-microsoft-com:xml-diffgram-v1"><NewDataSet xmlns="">{rows}</NewDataSet>'
        "</diffgr:diffgram></GetChangedDossiersResult></GetChangedDossiersResponse></soap:Body></soap:Envelope>"
    )


def test_dataset_rows_are_read_by_column_even_when_the_inline_schema_omits_a_column() -> None:
    # Given a DataSet whose inline schema declares only MA_HO_SO (zeep alone refuses the whole answer), with a row
    # saved without its revision and one whose change time is DateTime.MinValue
    connector, _ = _offline()
    rows = (
        '<Table diffgr:id="Table1" msdata:rowOrder="0"><MA_HO_SO>A-1</MA_HO_SO><PHIEN_BAN>3</PHIEN_BAN>'
        "<NGAY_CAP_NHAT>2023-10-02T23:59:59+07:00</NGAY_CAP_NHAT></Table>"
        '<Table diffgr:id="Table2" msdata:rowOrder="1"><MA_HO_SO>A-2</MA_HO_SO>'
        "<NGAY_CAP_NHAT>2023-10-03T00:00:01+07:00</NGAY_CAP_NHAT></Table>"
        '<Table diffgr:id="Table3" msdata:rowOrder="2"><MA_HO_SO>A-3</MA_HO_SO><PHIEN_BAN>1</PHIEN_BAN>'
        f"<NGAY_CAP_NHAT>{MIN_VALUE}+07:00</NGAY_CAP_NHAT></Table>"
    )
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, ASMX_URL, status=200, body=_dataset_answer(rows))
        page = connector.fetch_changes("507", datetime(2023, 10, 1, tzinfo=VN_TZ))
    # Then the readable row is an entry, and each other a named problem of its dossier (no revision; a change time
    # that is DateTime.MinValue, which is no time)
    assert [(r.dossier_code, r.version) for r in page.items] == [("A-1", 3)]
    assert page.items[0].updated_at == datetime(2023, 10, 2, 23, 59, 59, tzinfo=VN_TZ)
    assert [(p.dossier_code, p.field_path) for p in page.problems] == [("A-2", "PHIEN_BAN"), ("A-3", "NGAY_CAP_NHAT")]
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, ASMX_URL, status=200, body=_dataset_answer(""))
        assert connector.fetch_changes("507", datetime(2023, 10, 1, tzinfo=VN_TZ)).items == []


def test_show_paths_names_the_dataset_table_and_the_record_in_text(world: Any) -> None:
    sims, topology = world
    report = probe(
        topology.systems[SYSTEM],
        None,  # type: ignore[arg-type]
        unit="507",
        since=sims.now() - timedelta(days=60),
        show_paths=True,
    )
    assert report.ok, report.findings
    [feed_line] = report.paths["changes"]
    assert "GetChangedDossiersResult" in feed_line and "dataset: Table" in feed_line and "PHIEN_BAN" in feed_line
    dossier = report.paths["dossier"]
    assert "xml_string: true" in dossier[0] and "GetDossierResult" in dossier[0]
    assert any(line.strip().startswith("QUA_TRINH.BUOC[].TRANG_THAI") for line in dossier)
    assert not any("_value_1" in line for lines in report.paths.values() for line in lines)
    assert not any("Nguyễn" in line for line in dossier)  # paths and kinds, never values
    assert answer_paths({"a": [{"b": 1}], "c": None}) == ["a[].b  (int)", "c  (NoneType)"]


# ── point 4: constants and defaults for what the vendor does not keep ──────────────────────────────────────


def test_a_const_and_defaults_fill_what_the_vendor_does_not_write() -> None:
    vendor = profile("thubon")
    record = {"CONG_DAN": {"HO_TEN": "Trần B"}, "TAI_LIEU": {"TEP": [{"MA": "T1", "TEN": "don.pdf"}]}}
    default = to_default(record, vendor)
    assert default["ChuHoSo"]["LoaiDoiTuong"] == "1"  # default: written only for organisations
    assert default["HinhThucTra"] == "0"  # default: written only when the result goes by post
    assert default["DanhSachTepDinhKem"]["TepDinhKem"] == [{"Id": "T1", "Ten": "don.pdf", "DaXoa": "0"}]  # const
    written = to_default({"CONG_DAN": {"HO_TEN": "Công ty C", "LOAI": "2"}, "HINH_THUC_TRA": "1"}, vendor)
    assert written["ChuHoSo"]["LoaiDoiTuong"] == "2" and written["HinhThucTra"] == "1"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"const": "1", "default": "1"}, "exactly one of const or default"),
        ({"path": "LOAI", "const": "1"}, "a const takes no path"),
        ({"path": "LOAI"}, "exactly one of const or default"),
    ],
)
def test_a_record_value_the_hub_cannot_use_is_refused_naming_the_field(
    value: dict[str, Any], problem: str, tmp_path: Path
) -> None:
    data = yaml.safe_load((FIELD_VENDORS_DIR / "thubon.yaml").read_text(encoding="utf-8"))
    data["record"]["fields"]["HinhThucTra"] = value
    path = tmp_path / "thubon.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(path)
    assert problem in caught.value.message and "record.fields.HinhThucTra" in caught.value.message


# ── point 5: faults with an empty <detail />, classed by fault code and text ──────────────────────────────


def test_the_vendors_detail_less_faults_are_classed_by_their_text(world: Any) -> None:
    sims, topology = world
    source = registry.build_source(topology.systems[SYSTEM])
    # not found: a server fault whose text names the dossier → a look-up's "none", and a fetch's named refusal
    assert source.lookup("507", "000.00.07.H47-991231-9999") is None  # type: ignore[attr-defined]
    with pytest.raises(RemoteNotFound):
        source.get_dossier("507", "000.00.07.H47-991231-9999")
    # a unit the vendor does not serve: parked by the profile's words
    with pytest.raises(RemoteRejected) as refused:
        source.fetch_changes("49", sims.now() - timedelta(days=1))
    assert "không sử dụng hệ thống" in str(refused.value.remote_message)
    # the vendor's own failure, a server fault no list names: retried, by the table
    sims.set_fault("thubon:GetChangedDossiers", soap_fault_rate=1.0, times=1)
    with pytest.raises(RemoteUnavailable):
        source.fetch_changes("507", sims.now() - timedelta(days=1))
    assert source.fetch_changes("507", sims.now() - timedelta(days=60)).items


# ── point 6: DateTime.MinValue is unknown, capital status words read through the code table ──────────────


def test_datetime_minvalue_is_unknown_and_capital_status_words_are_the_vendors_codes() -> None:
    vendor = profile("thubon")
    record = {
        "TRANG_THAI": "ĐÃ TRẢ KẾT QUẢ",
        "NGAY_NOP": "2023-10-02T23:30:00",
        "NGAY_TRA_KET_QUA": MIN_VALUE,
        "NGAY_TU_CHOI": f" {MIN_VALUE} ",
        "QUA_TRINH": {"BUOC": [{"TRANG_THAI": "đang xử lý", "HAN_XU_LY": MIN_VALUE}]},
    }
    default = to_default(record, vendor)
    assert default["TrangThai"] == 10
    assert default["NgayNop"] == datetime(2023, 10, 2, 23, 30, tzinfo=VN_TZ)
    assert default["NgayTra"] is None and default["NgayTuChoi"] is None
    [step] = default["DanhSachTienDo"]["TienDo"]
    assert step["TrangThai"] == 4 and step["NgayKetThucTheoQuyDinh"] is None
    # a MinValue in a field no converter reads is still no date (unknown_dates)
    bare = vendor.model_copy(update={"converters": ()})
    assert to_default({"NGAY_TRA_KET_QUA": MIN_VALUE}, bare).get("NgayTra") is None
