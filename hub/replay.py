"""Replaying messages: one, or every message a filter matches, as a job that is counted first, then run in
batches at a bounded rate, and can be paused, resumed and cancelled.

A replay never edits history: it writes a new message linked to the original by ``replay_of`` (the original is
marked ``replayed``), so the log shows both attempts. Mode ``original`` resends the same payload (a delivery of the
same stored revision, re-mapped with today's procedure-code table); mode ``fresh`` fetches the dossier again from
its source and lets the pipeline decide what to deliver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from foundation.clock import utcnow
from foundation.errors import ConfigurationError
from hub import outbox
from hub.procedures import active_mappings
from hub.routing import split_target
from hub.store.db import Database
from hub.store.models import AuditAction, AuditEntry, Message, MessageState, ReplayJob
from mappings.errors import MappingMissing

Mode = Literal["original", "fresh"]
REPLAYABLE = (MessageState.PARKED.value, MessageState.HELD.value, MessageState.RETRYING.value)


class ReplayFilter(BaseModel):
    """Which messages a bulk replay takes; every field narrows the set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    target: str | None = None
    unit_code: str | None = None
    procedure_code: str | None = None
    error_class: str | None = None
    dossier_code: str | None = None
    dossier_codes: tuple[str, ...] | None = None  # a reconciliation's differences
    kind: str | None = None
    state: str = MessageState.PARKED.value

    def select_ids(self) -> Select[int]:
        query = select(Message.id).where(Message.state == self.state)
        for column, value in (
            (Message.target, self.target),
            (Message.unit_code, self.unit_code),
            (Message.procedure_code, self.procedure_code),
            (Message.error_class, self.error_class),
            (Message.dossier_code, self.dossier_code),
            (Message.kind, self.kind),
        ):
            if value is not None:
                query = query.where(column == value)
        if self.dossier_codes is not None:
            query = query.where(Message.dossier_code.in_(self.dossier_codes))
        if self.since is not None:
            query = query.where(Message.created_at >= self.since)
        if self.until is not None:
            query = query.where(Message.created_at < self.until)
        return query


def count(db: Database, flt: ReplayFilter) -> int:
    """How many messages ``flt`` matches now: the dry run."""
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(flt.select_ids().subquery())).scalar_one())


@dataclass(frozen=True, slots=True)
class Cause:
    """What a bulk replay would take, by the error that stopped the messages: how many, and how many of them will
    stop again for the same cause as things stand (``again``; None where the hub cannot tell without trying)."""

    error_class: str | None
    count: int
    again: int | None = None


def causes(db: Database, flt: ReplayFilter) -> list[Cause]:
    """The dry run by cause, largest first: a confirmation that says "60 messages" should also say that all 60 will
    park again because their procedures are still unmapped."""
    matched = flt.select_ids().subquery()
    with db.session() as session:
        rows = session.execute(
            select(Message.error_class, Message.procedure_code, func.count())
            .where(Message.id.in_(select(matched.c.id)))
            .group_by(Message.error_class, Message.procedure_code)
        ).all()
    mapped = set(active_mappings(db)) if any(e == MappingMissing.error_class for e, _, _ in rows) else set()
    counts: dict[str | None, list[int]] = {}
    for error_class, procedure, n in rows:
        total = counts.setdefault(error_class, [0, 0])
        total[0] += n
        if error_class == MappingMissing.error_class and procedure not in mapped:
            total[1] += n
    return sorted(
        (
            Cause(error_class, n, again if error_class == MappingMissing.error_class else None)
            for error_class, (n, again) in counts.items()
        ),
        key=lambda c: (-c.count, c.error_class or ""),
    )


FETCHED_AGAIN = frozenset({"sync", "deliver"})  # kinds whose fresh replay fetches the dossier again from its source


def _replay_payload(session: Session, original: Message, mode: Mode) -> tuple[str, dict[str, Any], int | None]:
    """The kind and payload of the replay of ``original`` in ``mode``."""
    if mode == "original" or original.kind not in FETCHED_AGAIN:  # a poll or a daily job reads afresh anyway
        return original.kind, dict(original.payload), original.dossier_version
    if original.kind == "sync":
        return "sync", {**original.payload, "fresh": True}, original.dossier_version
    # fresh replay of a delivery: fetch the dossier again from the unit whose copy produced the revision
    source = original.payload.get("source") or ""
    system, unit = split_target(source)
    if unit is None:
        raise ConfigurationError(f"Thông điệp {original.id} không ghi nguồn để lấy lại (no source to fetch again)")
    payload = {"system": system, "unit_code": unit, "dossier_code": original.dossier_code, "version": 0, "fresh": True}
    source_id = _source_id(session, system, unit, original.dossier_code)
    if source_id is not None:  # a platform asked by its own id: the id its feed gave for the dossier
        payload["source_id"] = source_id
    return "sync", payload, None


def _source_id(session: Session, system: str, unit: str, dossier_code: str | None) -> str | None:
    """The platform's own id of a dossier, as the unit's feed last gave it to a sync (None: asked by its code)."""
    payloads = session.execute(
        select(Message.payload)
        .where(Message.dossier_code == dossier_code, Message.kind == "sync", Message.source == system)
        .order_by(Message.id.desc())
    ).scalars()
    return next((p["source_id"] for p in payloads if p.get("unit_code") == unit and p.get("source_id")), None)


def replay_message(db: Database, message_id: int, *, mode: Mode = "original", user: str | None = None) -> int:
    """Replay one message; returns the new message's id."""
    ids = _replay(db, [message_id], mode=mode, user=user, job_id=None)
    if not ids:
        raise ConfigurationError(f"Không tìm thấy thông điệp {message_id} (no message {message_id})")
    return ids[0]


def _replay(db: Database, message_ids: list[int], *, mode: Mode, user: str | None, job_id: int | None) -> list[int]:
    created: list[Message] = []
    with db.session() as session:
        originals = session.scalars(select(Message).where(Message.id.in_(message_ids)).with_for_update()).all()
        successors = _successors(session, [o.id for o in originals if o.state == MessageState.REPLAYED.value])
        if job_id is None and successors:  # one message asked for: say where its replay went
            [(original_id, successor)] = successors.items()
            raise AlreadyReplayed(
                f"Thông điệp {original_id} đã được gửi lại thành thông điệp {successor.id} ({successor.state}); "
                f"xem hoặc gửi lại thông điệp {successor.id} (message {original_id} was replayed as {successor.id})",
                dossier_code=successor.dossier_code,
            )
        for original in originals:
            if original.id in successors:
                continue  # a job never replays a replayed message again: its successor carries on
            kind, payload, version = _replay_payload(session, original, mode)
            replay = outbox.record(
                session,
                kind=kind,
                payload=payload,
                dossier_code=original.dossier_code,
                dossier_version=version,
                unit_code=original.unit_code,
                procedure_code=original.procedure_code,
                source=original.source if kind == original.kind else payload.get("system"),
                target=original.target if kind == original.kind else None,
                replay_of=original.id,
                replay_job_id=job_id,
            )
            if original.state in REPLAYABLE:
                original.state = MessageState.REPLAYED.value
                original.updated_at = utcnow()
            created.append(replay)
        if job_id is None:
            for original in originals:
                session.add(
                    AuditEntry(
                        username=user,
                        action=AuditAction.MESSAGE_REPLAY,
                        subject=str(original.id),
                        details={"mode": mode, "dossier_code": original.dossier_code},
                    )
                )
    outbox.send(created)
    return [m.id for m in created]


class AlreadyReplayed(ConfigurationError):
    """Raised when a message asked to replay was replayed already; the message names its successor."""


def _successors(session: Session, replayed: list[int]) -> dict[int, Message]:
    """The newest replay of each of ``replayed`` (messages already replayed)."""
    if not replayed:
        return {}
    rows = session.scalars(select(Message).where(Message.replay_of.in_(replayed)).order_by(Message.id)).all()
    return {row.replay_of: row for row in rows if row.replay_of is not None}


def create_job(
    db: Database,
    flt: ReplayFilter,
    *,
    mode: Mode = "original",
    user: str | None = None,
    rate_per_second: float | None = None,
) -> int:
    """Count what ``flt`` matches and keep it as a job waiting for confirmation; returns the job id."""
    total = count(db, flt)
    with db.session() as session:
        job = ReplayJob(
            filter=flt.model_dump(mode="json"),
            mode=mode,
            state="counted",
            total=total,
            rate_per_second=rate_per_second,
            created_by=user,
        )
        session.add(job)
        session.flush()
        session.add(
            AuditEntry(
                username=user,
                action=AuditAction.REPLAY_CREATE,
                subject=str(job.id),
                details={"total": total, **job.filter},
            )
        )
        return job.id


def _set_state(db: Database, job_id: int, state: str, user: str | None, *, allowed: tuple[str, ...]) -> None:
    with db.session() as session:
        job = session.get(ReplayJob, job_id, with_for_update=True)
        if job is None:
            raise ConfigurationError(f"Không có lệnh gửi lại số {job_id} (no replay job {job_id})")
        if job.state not in allowed:
            raise ConfigurationError(
                f"Lệnh gửi lại {job_id} đang ở trạng thái {job.state}, không thể chuyển sang {state} "
                f"(job is {job.state}, cannot become {state})"
            )
        job.state = state
        session.add(AuditEntry(username=user, action=AuditAction(f"replay.{state}"), subject=str(job_id)))


def start_job(db: Database, job_id: int, user: str | None = None) -> None:
    """Confirm (or resume) a job; :func:`run_job` then works through it."""
    _set_state(db, job_id, "running", user, allowed=("counted", "paused"))


def pause_job(db: Database, job_id: int, user: str | None = None) -> None:
    _set_state(db, job_id, "paused", user, allowed=("running",))


def cancel_job(db: Database, job_id: int, user: str | None = None) -> None:
    _set_state(db, job_id, "cancelled", user, allowed=("counted", "running", "paused"))


def job_progress(db: Database, job_id: int) -> dict[str, Any]:
    with db.session() as session:
        job = session.get(ReplayJob, job_id)
        if job is None:
            raise ConfigurationError(f"Không có lệnh gửi lại số {job_id} (no replay job {job_id})")
        return {
            "id": job.id,
            "state": job.state,
            "mode": job.mode,
            "total": job.total,
            "done": job.done,
            "failed": job.failed,
            "filter": job.filter,
            "created_by": job.created_by,
        }


def run_job(db: Database, job_id: int, *, batch: int = 100, max_batches: int | None = None) -> dict[str, Any]:
    """Work through a running job batch by batch, stopping when it is paused, cancelled or done.

    The keyset cursor (``last_message_id``) is saved after every batch, so a job survives its runner being killed
    and resumes where it stopped. Returns the job's progress.
    """
    batches = 0
    while max_batches is None or batches < max_batches:
        with db.session() as session:
            job = session.get(ReplayJob, job_id)
            if job is None or job.state != "running":
                break
            flt = ReplayFilter.model_validate(job.filter)
            ids = list(
                session.scalars(
                    flt.select_ids().where(Message.id > job.last_message_id).order_by(Message.id).limit(batch)
                )
            )
            mode: Mode = "fresh" if job.mode == "fresh" else "original"
            rate = job.rate_per_second
        if not ids:
            with db.session() as session:
                finished = session.get(ReplayJob, job_id)
                if finished is not None and finished.state == "running":
                    finished.state = "done"
            break
        started = time.monotonic()
        created = _replay(db, ids, mode=mode, user=None, job_id=job_id)
        with db.session() as session:
            job = session.get(ReplayJob, job_id)
            if job is not None:
                job.done += len(created)
                job.failed += len(ids) - len(created)
                job.last_message_id = max(ids)
        batches += 1
        if rate:
            time.sleep(max(0.0, len(ids) / rate - (time.monotonic() - started)))
    return job_progress(db, job_id)
