"""Delivering dossier revisions to one target: the second half of the pipeline.

Exactly-once on top of at-least-once: under a lock per (dossier, target), a delivery is skipped when the
``deliveries`` table already holds its key, or when a newer revision exists (its own delivery carries everything,
and an older one must never overwrite it); before pushing, the target's copy is looked up and the push is skipped
when it already says the same, which closes the window between a successful push and the commit that records it.
The record and its progress entries are two steps with two keys, so a retry after a failed progress push does not
push the record again.

A target that takes batches (the national portal's ``DongBoHoSoMC``) gets them: the message being processed leads
a batch of other waiting deliveries to the same target and unit, each taken only if its dossier's lock is free. A
follower that cannot be delivered in the batch is left as it was, queued, and its own message delivers it (or
parks it) later; so a batch never parks or loses anything on another message's behalf.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foundation import logs
from foundation.errors import HubError
from hub import attempts, codecs, control, outbox
from hub.broker import dossier_mutex
from hub.context import HubContext
from hub.errors import DeliveryPaused
from hub.routing import split_target
from hub.store.models import Delivery, DossierVersion, Message, MessageState
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier
from systems.kind import Outgoing
from systems.registry import kind_of

log = logs.get_logger(__name__)

RECORD_STEP = "#record"  # the key suffix recorded after the record push, before the progress push


@dataclass
class _Item:
    """One delivery in a batch: the message, the revision, what the target already has, what to send."""

    message_id: int
    code: str
    version: int
    outgoing: Outgoing
    record_pushed: bool
    pushed: str = "skipped"
    error: HubError | None = None


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
        system_name, unit_code = split_target(target)
        system = ctx.topology.systems[system_name]
        batch_size = system.batch_size if kind_of(system).batches else 1
        with ExitStack() as locks:
            locks.enter_context(dossier_mutex(f"deliver:{code}:{target}").acquire())  # busy: back later
            if outbox.claim(ctx.db, message_id) is None:
                return "noop"  # a batch leader delivered it between the first claim and this lock
            followers = _followers(ctx, locks, message_id, target, batch_size - 1)
            return _deliver(ctx, target, unit_code, (message_id, code, version), followers)


def _followers(
    ctx: HubContext, locks: ExitStack, leader_id: int, target: str, limit: int
) -> list[tuple[int, str, int]]:
    """Other deliveries waiting for the same target and unit whose dossier locks are free, locked for this batch."""
    if limit <= 0:
        return []
    with ctx.db.session() as session:
        leader_unit = session.execute(select(Message.unit_code).where(Message.id == leader_id)).scalar()
        rows = session.execute(
            select(Message.id, Message.payload)
            .where(
                Message.target == target,
                Message.state == MessageState.QUEUED.value,
                Message.kind == "deliver",
                Message.unit_code == leader_unit,
                Message.id != leader_id,
            )
            .order_by(Message.id)
            .limit(limit)
        ).all()
    taken: list[tuple[int, str, int]] = []
    codes: set[str] = set()
    for message_id, payload in rows:
        code = payload["dossier_code"]
        if code in codes:
            continue  # two revisions of one dossier never travel together: the older one would be superseded
        if locks.enter_context(dossier_mutex(f"deliver:{code}:{target}").acquire(raise_on_failure=False)):
            taken.append((message_id, code, payload["version"]))
            codes.add(code)
    return taken


def _prepare(
    ctx: HubContext, target: str, unit_code: str | None, message_id: int, code: str, version: int
) -> _Item | None:
    """What to send for one delivery, or None when there is nothing to do (recorded as skipped)."""
    with ctx.db.session() as session:
        if _delivered(session, code, version, target):
            _skip_in(session, message_id, "đã gửi phiên bản này (already delivered)")
            return None
        current = session.execute(select(DossierRow.version).where(DossierRow.code == code)).scalar_one()
        if current > version:
            _skip_in(session, message_id, f"đã có phiên bản mới hơn {current} (superseded by version {current})")
            return None
        data = session.execute(
            select(DossierVersion.data).where(DossierVersion.dossier_code == code, DossierVersion.version == version)
        ).scalar_one()
        dossier = Dossier.model_validate(data)
        previous = _last_delivered(session, code, target, version)
        record_pushed = _delivered(session, code, version, target + RECORD_STEP)
    system = ctx.topology.systems[split_target(target)[0]]
    outgoing = codecs.to_target(ctx, system, dossier, previous, unit_code=unit_code)
    return _Item(message_id, code, version, outgoing, record_pushed)


def _deliver(
    ctx: HubContext,
    target: str,
    unit_code: str | None,
    leader: tuple[int, str, int],
    followers: list[tuple[int, str, int]],
) -> str:
    leader_item = _prepare(ctx, target, unit_code, *leader)  # the leader's own errors are the message's errors
    items = [leader_item] if leader_item is not None else []
    for follower in followers:
        try:
            item = _prepare(ctx, target, unit_code, *follower)
        except HubError:
            continue  # left queued: its own message meets the error and is retried or parked with it
        if item is not None:
            items.append(item)
    if not items:
        return MessageState.SKIPPED.value

    system_name, _ = split_target(target)
    connector = ctx.connectors.target(system_name)
    not_echoed = kind_of(ctx.topology.systems[system_name]).not_echoed
    unit = unit_code or _unit_of(ctx, leader[0])
    attempt = attempts.current()
    if attempt is not None:
        body = {"batch": [i.outgoing.request_log() for i in items]}
        redacted = {"batch": [i.outgoing.request_log(redacted=True) for i in items]}
        attempt.exchange(request=body, request_redacted=redacted)

    to_push: list[_Item] = []
    existing: set[str] = set()
    for item in items:
        if item.record_pushed:
            continue
        found = connector.lookup(unit, item.code)
        if found is not None and codecs.same_content(found, item.outgoing.record, not_echoed=not_echoed):
            item.pushed = "unchanged at target"
            continue
        if found is not None:
            existing.add(item.code)
        to_push.append(item)
    if to_push:
        results = connector.push_dossiers(unit, [i.outgoing.record for i in to_push], existing=existing)
        for item, result in zip(to_push, results, strict=True):
            item.error = result.error
            item.pushed = "pushed" if result.ok else "refused"
    for item in items:
        if item.error is None and item.outgoing.progress and not item.record_pushed:
            # a failing progress push must not make a retry push the record again
            _record_key(ctx, item.code, item.version, target + RECORD_STEP, item.message_id)
    with_progress = [i for i in items if i.error is None and i.outgoing.progress]
    if with_progress:
        entries = [(i, e) for i in with_progress for e in i.outgoing.progress]
        results = connector.push_progress(unit, [e for _, e in entries])
        for (item, _), result in zip(entries, results, strict=True):
            item.error = item.error or result.error

    summary = []
    for item in items:
        if item.error is not None:
            continue
        outcome = {
            "record": item.pushed,
            "progress_entries": len(item.outgoing.progress),
            "version": item.version,
            "batch_leader": leader[0],
            "batch_size": len(items),
        }
        _complete(ctx, item.message_id, item.code, item.version, target, outcome)
        summary.append({"message_id": item.message_id, "dossier_code": item.code, **outcome})
    if attempt is not None:
        attempt.exchange(response={"delivered": summary}, response_redacted={"delivered": summary})
    log.debug("batch_delivered", delivered=len(summary), of=len(items))
    if leader_item is not None and leader_item.error is not None:
        raise leader_item.error
    return MessageState.SUCCEEDED.value if leader_item is not None else MessageState.SKIPPED.value


def _unit_of(ctx: HubContext, message_id: int) -> str:
    """The unit a portal delivery is made for (the portal's ``madonvi``): the dossier's receiving unit."""
    with ctx.db.session() as session:
        return str(session.execute(select(Message.unit_code).where(Message.id == message_id)).scalar_one())


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
