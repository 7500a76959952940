"""Delivering a dossier revision to one target: the second half of the pipeline.

Exactly-once on top of at-least-once: under a lock per (dossier, target), a delivery is skipped when the
``deliveries`` table already holds its key, or when a newer revision exists (its own delivery carries everything,
and an older one must never overwrite it); before pushing, the target's copy is looked up and the push is skipped
when it already says the same, which closes the window between a successful push and the commit that records it.
The record and its progress entries are two steps with two keys, so a retry after a failed progress push does not
push the record again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import attempts, codecs, control, logs, outbox
from hub.broker import dossier_mutex
from hub.context import HubContext
from hub.errors import DeliveryPaused, HubError
from hub.routing import split_target
from hub.store.models import Delivery, DossierVersion, MessageState
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier

log = logs.get_logger(__name__)

RECORD_STEP = "#record"  # the key suffix recorded after the record push, before the progress push


def _delivered(session: Session, code: str, version: int, key: str) -> bool:
    found = session.execute(
        select(Delivery.id).where(
            Delivery.dossier_code == code, Delivery.dossier_version == version, Delivery.target == key
        )
    ).first()
    return found is not None


def _last_delivered(session: Session, code: str, target: str, below: int) -> Dossier | None:
    """The newest revision of ``code`` already delivered to ``target``: what the target knows."""
    version = session.execute(
        select(Delivery.dossier_version)
        .where(Delivery.dossier_code == code, Delivery.target == target, Delivery.dossier_version < below)
        .order_by(Delivery.dossier_version.desc())
        .limit(1)
    ).scalar()
    if version is None:
        return None
    data = session.execute(
        select(DossierVersion.data).where(DossierVersion.dossier_code == code, DossierVersion.version == version)
    ).scalar_one()
    return Dossier.model_validate(data)


def _record_key(ctx: HubContext, code: str, version: int, key: str, message_id: int) -> None:
    try:
        with ctx.db.session() as session:
            session.add(Delivery(dossier_code=code, dossier_version=version, target=key, message_id=message_id))
    except IntegrityError:
        pass  # recorded by a concurrent duplicate of this message: the key is there, which is all we need


def run_delivery(ctx: HubContext, message_id: int) -> str:
    """The deliver actor's work; returns the outcome for the integration log."""
    payload = outbox.claim(ctx.db, message_id)
    if payload is None:
        return "noop"
    code, version, target = payload["dossier_code"], payload["version"], payload["target"]
    with logs.bound(dossier_code=code, target=target):
        if control.is_paused(ctx.db, target):
            raise DeliveryPaused(f"Đích {target} đang tạm dừng (target paused)", dossier_code=code, target=target)
        with dossier_mutex(f"deliver:{code}:{target}").acquire():
            return _deliver(ctx, message_id, code, version, target)


def _deliver(ctx: HubContext, message_id: int, code: str, version: int, target: str) -> str:
    with ctx.db.session() as session:
        if _delivered(session, code, version, target):
            _skip_in(session, message_id, "đã gửi phiên bản này (already delivered)")
            return MessageState.SKIPPED.value
        current = session.execute(select(DossierRow.version).where(DossierRow.code == code)).scalar_one()
        if current > version:
            _skip_in(session, message_id, f"đã có phiên bản mới hơn {current} (superseded by version {current})")
            return MessageState.SKIPPED.value
        data = session.execute(
            select(DossierVersion.data).where(DossierVersion.dossier_code == code, DossierVersion.version == version)
        ).scalar_one()
        dossier = Dossier.model_validate(data)
        previous = _last_delivered(session, code, target, version)
        record_pushed = _delivered(session, code, version, target + RECORD_STEP)

    system_name, unit_code = split_target(target)
    system = ctx.topology.systems[system_name]
    outgoing = codecs.to_target(ctx, system, dossier, previous, unit_code=unit_code)
    connector = ctx.connectors.target(system_name)
    unit = unit_code or dossier.receiving_unit
    attempt = attempts.current()
    if attempt is not None:
        attempt.exchange(request=outgoing.request_log(), request_redacted=outgoing.request_log(redacted=True))

    pushed = "skipped"
    if not record_pushed:
        existing = connector.lookup(unit, code)
        if existing is not None and codecs.same_content(existing, outgoing.record):
            pushed = "unchanged at target"
        else:
            found = {code} if existing is not None else set()
            _raise_first([r.error for r in connector.push_dossiers(unit, [outgoing.record], existing=found)])
            pushed = "pushed"
        if outgoing.progress:  # a failing progress push must not make a retry push the record again
            _record_key(ctx, code, version, target + RECORD_STEP, message_id)
    progress = 0
    if outgoing.progress:
        _raise_first([r.error for r in connector.push_progress(unit, outgoing.progress)])
        progress = len(outgoing.progress)
    result = {"record": pushed, "progress_entries": progress, "version": version}
    if attempt is not None:
        attempt.exchange(response=result, response_redacted=result)
    _complete(ctx, message_id, code, version, target, result)
    log.debug("dossier_delivered", version=version, record=pushed, progress_entries=progress)
    return MessageState.SUCCEEDED.value


def _complete(ctx: HubContext, message_id: int, code: str, version: int, target: str, result: dict[str, Any]) -> None:
    """Record the delivery key and the message's success in one transaction."""
    try:
        with ctx.db.session() as session:
            session.add(Delivery(dossier_code=code, dossier_version=version, target=target, message_id=message_id))
            outbox.finish(session, message_id, MessageState.SUCCEEDED, result)
    except IntegrityError:  # a concurrent duplicate of this message recorded the key first: ours is done too
        with ctx.db.session() as session:
            outbox.finish(session, message_id, MessageState.SUCCEEDED, result)


def _skip_in(session: Session, message_id: int, reason: str) -> None:
    outbox.finish(session, message_id, MessageState.SKIPPED, {"reason": reason})


def _raise_first(errors: list[HubError | None]) -> None:
    for error in errors:
        if error is not None:
            raise error
