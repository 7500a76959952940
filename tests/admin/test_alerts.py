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
from foundation.clock import utcnow
from hub.store.db import Database
from hub.store.models import Message, MessageState, ScheduleJob

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
