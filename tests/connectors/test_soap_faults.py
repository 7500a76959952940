"""A vendor's SOAP faults classed by its profile: by detail code, by fault code (SOAP 1.1 ``faultcode``, SOAP 1.2
``Code``/``Subcode``) and by the reason text, so that an ASP.NET service's faults with an empty ``<detail />`` say
retry, park, not found or "credentials refused" (issue 22 point 6, issue 29 points 1 and 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import responses
import yaml

from connectors.errors import AuthenticationFailed, CircuitOpen, RemoteUnavailable, Resolution, SoapFault, fault_verdict
from connectors.protection import CircuitBreaker
from connectors.recording import ExchangeLog
from foundation.errors import ConfigurationError
from mappings.vendors import Faults, VendorProfile, load_profile, profile
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS, SOAP_URL, endpoint, fault

# An ASMX service's faults as a profile declares them: the vendor puts its codes in faultcode and its words in
# faultstring, and its detail element is empty.
ASMX = {
    "auth": [{"text": "Sai thông tin xác thực"}, {"code": "AuthFailed"}],
    "not_found": ["NOT_FOUND", {"code": "Client.KhongTimThay"}, {"pattern": r"^Không tìm thấy hồ sơ \S+$"}],
    "park": [{"code": "Server", "text": "không hợp lệ"}],
    "retry": [{"code": "ERR_BUSY"}, {"text": "timeout expired"}],
}


@pytest.mark.parametrize(
    ("declared", "seen", "expected"),
    [
        # declared by detail code, the first profiles' form, still read
        ({}, SoapFault("soap:Client", detail_code="NOT_FOUND"), Resolution.NOT_FOUND),
        ({}, SoapFault("soap:Client", detail_code="AUTH"), Resolution.REAUTH),
        ({}, SoapFault("soap:Client", detail_code="INTERNAL"), Resolution.RETRY),
        # by fault code, with nothing in the detail
        (ASMX, SoapFault("soap:Client.KhongTimThay", reason="x"), Resolution.NOT_FOUND),
        (ASMX, SoapFault("q1:ERR_BUSY"), Resolution.RETRY),
        (ASMX, SoapFault("{http://tempuri.org/}AuthFailed"), Resolution.AUTH_FAILED),
        # SOAP 1.2: the vendor's code is a Subcode under Sender / Receiver
        (ASMX, SoapFault("soap12:Receiver", subcodes=("ERR_BUSY",)), Resolution.RETRY),
        (ASMX, SoapFault("soap12:Sender", subcodes=("t:Lookup", "Client.KhongTimThay")), Resolution.NOT_FOUND),
        # by the reason text: words case-insensitively, or a pattern
        (ASMX, SoapFault("soap:Server", reason="SAI THÔNG TIN XÁC THỰC"), Resolution.AUTH_FAILED),
        (ASMX, SoapFault("soap:Server", reason="Không tìm thấy hồ sơ 000.00.01.H49-240301-0001"), Resolution.NOT_FOUND),
        (ASMX, SoapFault("soap:Client", reason="Timeout expired. The timeout period elapsed"), Resolution.RETRY),
        # every condition of a match must hold: Server + words parks, Server alone is the table's retry
        (ASMX, SoapFault("soap:Server", reason="Mã hồ sơ không hợp lệ"), Resolution.PERMANENT),
        (ASMX, SoapFault("soap:Server", reason="Lỗi hệ thống"), Resolution.RETRY),
        (ASMX, SoapFault("soap:Client", reason="Mã hồ sơ không hợp lệ"), Resolution.PERMANENT),
        # auth is tried before retry: a Server fault that says "credentials" is never retried
        (ASMX, SoapFault("soap:Server", reason="Sai thông tin xác thực (timeout expired)"), Resolution.AUTH_FAILED),
        # what the profile does not declare goes by the table
        (ASMX, SoapFault("wsse:FailedAuthentication"), Resolution.REAUTH),
        (ASMX, SoapFault(None), Resolution.PERMANENT),
    ],
)
def test_a_fault_is_classed_by_what_the_profile_declares_then_by_the_table(
    declared: dict[str, Any], seen: SoapFault, expected: Resolution
) -> None:
    faults = Faults.model_validate({**profile("default").faults.model_dump(), **declared})
    assert fault_verdict(seen, faults).resolution is expected


def _asmx() -> VendorProfile:
    default = profile("default")
    return default.model_copy(update={"faults": Faults.model_validate({"detail_code": "MaLoi", **ASMX})})


def _connector(log: ExchangeLog, breaker: CircuitBreaker) -> SoapConnector:
    ep = endpoint(SOAP_URL, log)
    ep.breaker = breaker
    return SoapConnector(ep, _asmx(), CREDS, wsdl=str(CONTRACT_WSDL))


def test_refused_credentials_park_after_one_call_and_leave_the_circuit_closed(exchanges: ExchangeLog) -> None:
    # Given a vendor whose wrong-password answer is a *server* fault with an empty detail
    breaker = CircuitBreaker(failure_threshold=1, cooldown=600)
    connector = _connector(exchanges, breaker)
    refused = fault("soap:Server", "Sai thông tin xác thực", empty_detail=True)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, status=500, body=refused)
        wire.add(responses.POST, SOAP_URL, status=500, body=refused)
        # When it is called twice
        errors = []
        for _ in range(2):
            with pytest.raises(AuthenticationFailed) as caught:
                connector.lookup("501", "000.00.01.H49-240301-0001")
            errors.append(caught.value)
        # Then each call went out once (no retry with the same password), and the circuit never opened
        assert len(wire.calls) == 2
    assert [e.error_class for e in errors] == ["authentication_failed", "authentication_failed"]
    assert all(e.action.value == "park" for e in errors)
    assert errors[0].remote_message == "Sai thông tin xác thực"
    assert "xác thực" in errors[0].message


def test_a_server_fault_the_profile_does_not_name_still_opens_the_circuit(exchanges: ExchangeLog) -> None:
    breaker = CircuitBreaker(failure_threshold=1, cooldown=600)
    connector = _connector(exchanges, breaker)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, status=500, body=fault("soap:Server", "Lỗi hệ thống", empty_detail=True))
        with pytest.raises(RemoteUnavailable) as first:
            connector.lookup("501", "000.00.01.H49-240301-0001")
        with pytest.raises(CircuitOpen):
            connector.lookup("501", "000.00.01.H49-240301-0001")
        assert len(wire.calls) == 1
    assert first.value.error_class == "remote_unavailable"


@pytest.mark.parametrize(
    "answer",
    [
        fault("soap:Client.KhongTimThay", "Hồ sơ không tồn tại", empty_detail=True),
        fault("soap:Server", "Không tìm thấy hồ sơ 000.00.01.H49-240301-0001", empty_detail=True),
        fault("soap:Client", "Hồ sơ không tồn tại", "NOT_FOUND"),
    ],
    ids=["by faultcode", "by faultstring pattern", "by detail code"],
)
def test_a_look_up_reads_the_vendors_not_found_fault_as_none(answer: str, exchanges: ExchangeLog) -> None:
    connector = _connector(exchanges, CircuitBreaker(failure_threshold=1, cooldown=600))
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, status=500, body=answer)
        assert connector.lookup("501", "000.00.01.H49-240301-0001") is None


@pytest.mark.parametrize(
    ("faults", "problem"),
    [
        ({"auth": [{}]}, "needs detail, code, text or pattern"),
        ({"retry": [{"pattern": "(unclosed"}]}, "is not a regular expression"),
        ({"park": [{"faultcode": "Server"}]}, "faultcode"),
    ],
)
def test_a_fault_match_the_hub_cannot_use_is_refused_naming_the_key(
    faults: dict[str, Any], problem: str, tmp_path: Path
) -> None:
    data = profile("default").model_dump(mode="json", exclude={"source"})
    data["faults"] = faults
    path = tmp_path / "vendor.yaml"

    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(path)
    assert problem in caught.value.message
    assert "faults." in caught.value.message


def _soap12(tmp_path: Path) -> Path:
    """The contract's WSDL bound to SOAP 1.2, as an ASMX service publishes it beside its SOAP 1.1 binding."""
    wsdl = CONTRACT_WSDL.read_text(encoding="utf-8").replace(
        'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"', 'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap12/"'
    )
    (tmp_path / "motcua.xsd").write_bytes((CONTRACT_WSDL.parent / "motcua.xsd").read_bytes())
    (tmp_path / "motcua12.wsdl").write_text(wsdl, encoding="utf-8")
    return tmp_path / "motcua12.wsdl"


def _fault12(code: str, reason: str, subcode: str | None = None) -> str:
    sub = (
        f'<soap:Subcode><soap:Value xmlns:q0="http://tempuri.org/">{subcode}</soap:Value></soap:Subcode>'
        if subcode
        else ""
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><soap:Fault>'
        f"<soap:Code><soap:Value>{code}</soap:Value>{sub}</soap:Code>"
        f'<soap:Reason><soap:Text xml:lang="vi">{reason}</soap:Text></soap:Reason><soap:Detail />'
        "</soap:Fault></soap:Body></soap:Envelope>"
    )


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        (_fault12("soap:Sender", "Hồ sơ không tồn tại", "q0:Client.KhongTimThay"), None),
        (_fault12("soap:Sender", "Hệ thống bận", "q0:ERR_BUSY"), RemoteUnavailable),
        (
            _fault12("soap:Receiver", "Server was unable to process request. ---&gt; Sai thông tin xác thực"),
            AuthenticationFailed,
        ),
    ],
    ids=["not found by Subcode", "retry by Subcode under Sender", "auth by Reason under Receiver"],
)
def test_soap12_faults_are_classed_by_subcode_and_reason(
    answer: str, outcome: type[Exception] | None, exchanges: ExchangeLog, tmp_path: Path
) -> None:
    ep = endpoint(SOAP_URL, exchanges)
    connector = SoapConnector(ep, _asmx(), CREDS, wsdl=str(_soap12(tmp_path)))
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, status=500, body=answer, content_type="application/soap+xml; charset=utf-8")
        if outcome is None:
            assert connector.lookup("501", "000.00.01.H49-240301-0001") is None
        else:
            with pytest.raises(outcome):
                connector.lookup("501", "000.00.01.H49-240301-0001")
        assert len(wire.calls) == 1
