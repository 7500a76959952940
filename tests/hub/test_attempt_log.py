"""The integration log tells the truth: an attempt keeps the request as sent and the answer exactly as the remote
sent it (up to the cap), and the copy viewers see is redacted, made once when the attempt is written; for the
one-stop-shop's SOAP service and the portal's REST API, answers that succeed and answers that fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from foundation.clock import utcnow
from foundation.errors import HubError
from foundation.topology import System, load
from hub import attempts
from hub.store.db import Database
from hub.store.models import Attempt
from simulators import portal as simulators_portal
from simulators import soap as simulators_soap
from simulators.server import Simulators
from systems import registry
from tests.conftest import TOPOLOGIES
from tests.hub.wire import Tap


@pytest.fixture(scope="module")
def tap() -> Tap:
    return Tap()


@pytest.fixture(scope="module")
def sims(start_simulators: type[Simulators], tap: Tap) -> Iterator[Simulators]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(simulators_soap, "create_app", tap.wrap(simulators_soap.create_app))
        patch.setattr(simulators_portal, "create_app", tap.wrap(simulators_portal.create_app))
        with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=11, dossiers=20) as running:
            yield running


@pytest.fixture(autouse=True)
def _creds(monkeypatch: pytest.MonkeyPatch, sims: Simulators) -> Iterator[None]:
    for ref in ("motcua", "dvcqg"):
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref.upper()}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref.upper()}_PASSWORD", "hub-secret")
    sims.clear_faults()
    yield
    sims.clear_faults()


def _try(db: Database, call: Callable[[], object], *, cap: int = 1_000_000) -> Attempt:
    """Run ``call`` as one try of a message, as the worker does, and read back the attempt row written for it."""
    record = attempts.AttemptRecord(message_id=1, number=1, started_at=utcnow(), worker="test")
    token = attempts.begin(record)
    try:
        call()
        record.outcome = "succeeded"
    except HubError as exc:
        record.outcome, record.error_class = "parked", exc.error_class
    finally:
        attempts.end(token)
    writer = attempts.AttemptWriter(db, cap=cap)
    writer.put(record)
    writer.close()
    with db.session() as session:
        return session.scalars(select(Attempt).order_by(Attempt.id.desc())).first()  # type: ignore[return-value]


@pytest.fixture
def log_db(db: Database) -> Database:
    from hub.store.models import Message

    with db.session() as session:  # the attempt rows need their message
        session.add(Message(id=1, kind="sync", actor="sync_dossier", payload={}))
    return db


def _soap(sims: Simulators) -> System:
    return System(name="motcua", kind="soap", base_url=sims.soap_url, credentials="motcua", timeout=5)


def _portal(sims: Simulators) -> System:
    return System(
        name="dvcqg", kind="dvcqg-session", base_url=f"{sims.portal_url}/dvcqg", credentials="dvcqg", timeout=5
    )


def _wire(row: Attempt) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    assert row.response is not None and row.response_redacted is not None
    return row.response["wire"], row.response_redacted["wire"]


def test_a_soap_answer_is_kept_byte_for_byte_and_shown_redacted(log_db: Database, sims: Simulators, tap: Tap) -> None:
    source = registry.build_source(_soap(sims), recorder=attempts.AttemptRecorder())
    code, held = next(iter(sims.source_state().items()))
    tap.bodies.clear()

    row = _try(log_db, lambda: source.get_dossier(held.MaDonViTiepNhan, code))

    [kept], [shown] = _wire(row)
    assert kept["body"].encode() == tap.bodies[-1] and kept["status_code"] == 200
    applicant = held.ChuHoSo
    assert applicant.SoGiayTo in kept["body"] and applicant.Email in kept["body"]
    for value in (applicant.SoGiayTo, applicant.Email, applicant.SoDienThoai, applicant.DiaChi):
        assert value not in shown["body"]
    assert code in shown["body"] and "ChuHoSo>***<" in shown["body"]
    sent = row.request["wire"][0]["body"]  # type: ignore[index]
    assert code in sent and "hub-secret" not in sent and "Security" not in sent


def test_a_soap_fault_is_kept_as_the_remote_sent_it(log_db: Database, sims: Simulators, tap: Tap) -> None:
    source = registry.build_source(_soap(sims), recorder=attempts.AttemptRecorder())
    unit = next(iter(sims.source_state().values())).MaDonViTiepNhan
    sims.set_fault("soap", soap_fault_rate=1.0, times=1)
    tap.bodies.clear()

    row = _try(log_db, lambda: source.get_dossier(unit, "000.00.00.H47-000000-0000"))

    [kept], [shown] = _wire(row)
    assert row.error_class is not None
    assert kept["body"].encode() == tap.bodies[-1] and kept["status_code"] == 500
    assert "Fault" in kept["body"] and "Fault" in shown["body"] and kept["error"]


def test_a_rest_answer_is_kept_byte_for_byte_and_shown_redacted(log_db: Database, sims: Simulators, tap: Tap) -> None:
    target = registry.build_target(_portal(sims), recorder=attempts.AttemptRecorder())
    procedure = sims.catalogue.procedures[0]
    record = {
        "MaHoSo": "000.00.17.H47-231002-0001",
        "MaTTHC": procedure.national_code,
        "TenTTHC": procedure.name,
        "ChuHoSo": "Nguyễn Văn An",
        "KenhThucHien": "2",
        "TrangThaiHoSo": "2",
        "NgayTiepNhan": "20231002081500",
    }
    target.push_dossiers("20965", [record])
    tap.bodies.clear()

    row = _try(log_db, lambda: target.lookup("20965", record["MaHoSo"]))

    kept, shown = _wire(row)
    assert kept[-1]["body"].encode() == tap.bodies[-1] and kept[-1]["status_code"] == 200
    assert "Nguyễn Văn An" in kept[-1]["body"] and "Nguyễn Văn An" not in shown[-1]["body"]
    assert all("hub-secret" not in w["body"] for w in row.request["wire"])  # type: ignore[index]


@pytest.mark.parametrize("cap", [1_000_000, 10], ids=["whole", "cut-at-cap"])
def test_a_rest_failure_is_kept_as_the_remote_sent_it_up_to_the_cap(
    log_db: Database, sims: Simulators, tap: Tap, cap: int
) -> None:
    target = registry.build_target(_portal(sims), recorder=attempts.AttemptRecorder())
    target.lookup("20965", "warm-up: log in first")
    sims.set_fault("dvcqg", error_rate=1.0, error_status=503, times=1)
    tap.bodies.clear()

    row = _try(log_db, lambda: target.lookup("20965", "000.00.17.H47-231002-0002"), cap=cap)

    [kept], [shown] = _wire(row)
    sent_back = tap.bodies[-1]
    assert row.error_class is not None and kept["status_code"] == 503 and len(sent_back) > 10
    assert kept["body"].encode() == sent_back[:cap] and kept["truncated"] is (len(sent_back) > cap)
    if kept["truncated"]:
        assert "cut at the cap" in shown["body"]
    else:
        assert shown["body"] is not None and shown["status_code"] == 503


def test_nothing_is_kept_or_redacted_outside_a_try(sims: Simulators) -> None:
    source = registry.build_source(_soap(sims), recorder=attempts.AttemptRecorder())
    code, held = next(iter(sims.source_state().items()))
    assert source.get_dossier(held.MaDonViTiepNhan, code)["MaHoSo"] == code
    assert attempts.current() is None
