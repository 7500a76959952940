"""Alerts are incidents: opened once, updated while the condition holds, closed on recovery with a notice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import cast

import requests
import responses
from sqlalchemy import select, update

from console.alerts import AlertSettings, evaluate
from console.models import Incident
from console.queries import dashboard
from foundation.clock import utcnow
from hub.store.db import Database
from hub.store.models import Message, MessageState
from hub.sync import request_poll
from schedules.models import ScheduleJob
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, dossier_code, record
from tests.hub.test_pipeline import put

HOOK = "https://chat.example.vn/hooks/dvc"


def failing(db: Database, count: int, *, target: str = "dvcqg") -> None:
    now = utcnow()
    with db.session() as session:
        for i in range(count):
            session.add(
                Message(
                    kind="deliver",
                    actor="deliver_dossier",
                    state=MessageState.RETRYING.value,
                    dossier_code=f"000.01.17.H47-240304-{i:04d}",
                    target=target,
                    error_class="remote_unavailable",
                    created_at=now - timedelta(minutes=2),
                    updated_at=now,
                )
            )


def settings() -> AlertSettings:
    return AlertSettings(webhook_url=HOOK, failing_min_failures=3, oldest_waiting_minutes=60)


@responses.activate
def test_a_failing_target_opens_one_incident_and_one_notice_however_often_it_is_evaluated(db: Database) -> None:
    responses.post(HOOK, json={"ok": True})
    failing(db, 5)

    first = evaluate(db, settings())
    failing(db, 5)  # more retries of a still-failing target
    second = evaluate(db, settings())
    evaluate(db, settings())

    assert first.opened == ["target_failing:dvcqg"]
    assert second.opened == [] and second.updated == ["target_failing:dvcqg"]
    assert len(responses.calls) == 1
    body = json.loads(responses.calls[0].request.body or b"{}")
    assert body["event"] == "opened" and "dvcqg" in body["text"]
    with db.session() as session:
        [incident] = session.scalars(select(Incident)).all()
        assert incident.evaluations == 3 and "10 thông điệp lỗi" in incident.summary


@responses.activate
def test_recovery_closes_the_incident_and_sends_a_recovery_notice(db: Database) -> None:
    responses.post(HOOK, json={"ok": True})
    failing(db, 5)
    evaluate(db, settings())
    with db.session() as session:
        session.execute(update(Message).values(state=MessageState.SUCCEEDED.value, error_class=None))

    result = evaluate(db, settings())

    assert result.closed == ["target_failing:dvcqg"]
    assert [json.loads(c.request.body or b"{}")["event"] for c in responses.calls] == ["opened", "resolved"]
    assert "ĐÃ KHÔI PHỤC" in json.loads(responses.calls[1].request.body or b"{}")["text"]
    with db.session() as session:
        assert session.scalars(select(Incident.state)).all() == ["closed"]


@responses.activate
def test_a_webhook_that_is_down_hears_about_the_incident_at_the_next_evaluation(db: Database) -> None:
    responses.post(HOOK, status=503)
    failing(db, 5)
    evaluate(db, settings())
    responses.replace(responses.POST, HOOK, json={"ok": True})

    again = evaluate(db, settings())

    assert again.opened == [] and again.notified == 1
    # responses' annotations name its own Response class as the recorded answer; at run time it is requests'.
    assert [cast(requests.Response, c.response).status_code for c in responses.calls] == [503, 200]


def test_an_old_waiting_message_and_a_stalled_schedule_are_incidents(db: Database) -> None:
    now = utcnow()
    with db.session() as session:
        session.add(
            Message(
                kind="deliver",
                actor="deliver_dossier",
                state="queued",
                target="dvcqg",
                created_at=now - timedelta(hours=2),
            )
        )
        session.add(ScheduleJob(job_id="poll:motcua:20965", next_run_at=now - timedelta(hours=1)))

    result = evaluate(db, AlertSettings(oldest_waiting_minutes=30))

    assert sorted(result.opened) == ["oldest_waiting:dvcqg", "schedule_stalled:poll:motcua:20965"]


def test_a_first_day_without_mappings_keeps_the_portal_healthy_and_raises_one_configuration_incident(
    db: Database,
) -> None:
    """Unmapped procedures park every delivery before a request is sent: that is the hub's configuration, not the
    portal failing. The DVCQG row stays healthy, and the one incident says what to fix (#23, point 4)."""
    with running_hub(db) as hub:
        # Given a first day: dossiers of two procedures nobody has mapped to a national code yet
        for n in range(1, 7):
            put(hub, COMMUNE, record(dossier_code(COMMUNE, n), procedure="NT-XVH-004" if n % 2 else "NT-XCT-002"))
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain()
        assert [c for c in hub.portal.calls if c.operation == "push_dossiers"] == []  # nothing reached the portal

    # When the dashboard and the alerts look at the hub
    with db.session() as session:
        [portal] = [t for t in dashboard(session).targets if t.target == "dvcqg"]
    evaluation = evaluate(db, AlertSettings(failing_min_failures=3, parked_rising=5))

    # Then the portal is healthy, and the only incident is the configuration one, with its counts and its fix
    assert (portal.parked, portal.recent_failed, portal.error_rate, portal.circuit) == (6, 0, 0.0, "closed")
    assert evaluation.opened == ["procedures_unmapped"]
    with db.session() as session:
        [incident] = session.scalars(select(Incident)).all()
    assert "6 hồ sơ chưa gửi được vì 2 thủ tục chưa có mã TTHC quốc gia" in incident.summary
    assert incident.details is not None and incident.details["fix"] == "/mappings"
