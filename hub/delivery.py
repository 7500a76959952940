"""Delivering dossier revisions to one target: the second half of the pipeline.

Exactly-once on top of at-least-once: under a lock per (dossier, target), a delivery is skipped when the
``deliveries`` table already holds its key, or when a newer revision exists (its own delivery carries everything,
and an older one must never overwrite it). Before a record is pushed, a push intent (the key with ``#intent``) is
committed; an attempt that finds an intent from an earlier attempt may be following a push whose outcome was never
recorded (a crash, a timeout), so it looks the target's copy up first and skips the push when it already says the
same. That closes the window between a push and the commit that records it, and costs the look-up only after an
attempt that may have pushed. The record and its progress entries are two steps with two keys, so a retry after a
failed progress push does not push the record again.

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
from foundation.errors import ConfigurationError, HubError
from hub import attempts, codecs, control, outbox
from hub.broker import DossierMutex, dossier_mutex
from hub.context import HubContext
from hub.errors import DeliveryPaused, LeaseLost
from hub.routing import split_target
from hub.store.models import Delivery, DossierVersion, Message, MessageState
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier
from systems.kind import Outgoing
from systems.registry import kind_of

log = logs.get_logger(__name__)

RECORD_STEP = "#record"  # the key suffix recorded after the record push, before the progress push
INTENT_STEP = "#intent"  # the key suffix committed just before the record push


@dataclass
class _Item:
    """One delivery in a batch: the message, the revision, what the target already has, what to send."""

    message_id: int
    code: str
    version: int
    outgoing: Outgoing
    record_pushed: bool
    may_have_pushed: bool  # an earlier attempt committed a push intent: the target may hold this revision
    known_at_target: bool  # an older revision was delivered: the target has the dossier
    record_unchanged: bool = False  # the record says what the delivered older revision's record said
    pushed: str = "skipped"
    error: HubError | None = None


def _keys(session: Session, code: str, version: int, target: str) -> set[str]:
    """Which steps of delivering this revision to ``target`` are recorded (the delivery, its record, its intent)."""
    wanted = [target, target + RECORD_STEP, target + INTENT_STEP]
    rows = session.execute(
        select(Delivery.target).where(
            Delivery.dossier_code == code, Delivery.dossier_version == version, Delivery.target.in_(wanted)
        )
    ).scalars()
    return set(rows)


def _last_delivered(session: Session, code: str, target: str, below: int) -> Dossier | None:
    """The newest revision of ``code`` already delivered to ``target``: what the target knows (one joined read)."""
    data = session.execute(
        select(DossierVersion.data)
        .join(
            Delivery,
            (Delivery.dossier_code == DossierVersion.dossier_code)
            & (Delivery.dossier_version == DossierVersion.version),
        )
        .where(Delivery.dossier_code == code, Delivery.target == target, Delivery.dossier_version < below)
        .order_by(Delivery.dossier_version.desc())
        .limit(1)
    ).scalar()
    return None if data is None else Dossier.model_validate(data)


def _record_keys(ctx: HubContext, items: list[_Item], step: str, target: str) -> None:
    """Record one step's key for several deliveries in one transaction (one by one if a duplicate got there first)."""
    if not items:
        return
    try:
        with ctx.db.session() as session:
            session.add_all(
                Delivery(dossier_code=i.code, dossier_version=i.version, target=target + step, message_id=i.message_id)
                for i in items
            )
    except IntegrityError:
        for item in items:
            try:
                with ctx.db.session() as session:
                    session.add(
                        Delivery(
                            dossier_code=item.code,
                            dossier_version=item.version,
                            target=target + step,
                            message_id=item.message_id,
                        )
                    )
            except IntegrityError:
                pass  # recorded by a concurrent duplicate of this message: the key is there, which is all we need


def run_delivery(ctx: HubContext, message_id: int) -> str:
    """The deliver actor's work; returns the outcome for the integration log."""
    payload = outbox.claim(ctx.db, message_id, lease_seconds=ctx.settings.message_lease_seconds)
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
            locks.enter_context(_lock(ctx, code, target).acquire())  # busy: back later
            unit, followers = _followers(ctx, locks, message_id, target, unit_code, batch_size - 1)
            try:
                return _deliver(ctx, target, unit_code, unit, (message_id, code, version), followers)
            finally:  # a follower not delivered in the batch goes back to its own message, as it was
                outbox.release(ctx.db, [mid for mid, _, _ in followers])


def _lock(ctx: HubContext, code: str, target: str) -> DossierMutex:
    """The lock that lets one version of a dossier at a time travel to a target."""
    return dossier_mutex(f"deliver:{code}:{target}", lease_seconds=ctx.settings.message_lease_seconds)


def _followers(
    ctx: HubContext, locks: ExitStack, leader_id: int, target: str, unit_code: str | None, limit: int
) -> tuple[str | None, list[tuple[int, str, int]]]:
    """The unit the batch is for, and other deliveries waiting for the same target and unit, claimed for this batch
    (in the read's transaction) and locked; one whose dossier lock is busy goes straight back to its own message."""
    if limit <= 0 and unit_code is not None:
        return unit_code, []
    with ctx.db.session() as session:
        leader_unit = session.execute(select(Message.unit_code).where(Message.id == leader_id)).scalar()
        if limit <= 0:
            return leader_unit, []
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
        codes: dict[str, int] = {}
        for message_id, payload in rows:  # two revisions of one dossier never travel together: the older would lose
            codes.setdefault(payload["dossier_code"], message_id)
        claimed = outbox.claim_many(session, list(codes.values()), lease_seconds=ctx.settings.message_lease_seconds)
    taken: list[tuple[int, str, int]] = []
    busy: list[int] = []
    for message_id, payload in claimed.items():
        code = payload["dossier_code"]
        if locks.enter_context(_lock(ctx, code, target).acquire(raise_on_failure=False)):
            taken.append((message_id, code, payload["version"]))
        else:
            busy.append(message_id)
    outbox.release(ctx.db, busy)
    return leader_unit, taken


def _prepare_all(
    ctx: HubContext, target: str, unit_code: str | None, deliveries: list[tuple[int, str, int]]
) -> list[tuple[int, _Item | HubError | None]]:
    """What to send for each delivery (None: nothing to do, recorded as skipped; a HubError: it cannot be mapped),
    read in one transaction for the whole batch."""
    read: list[tuple[int, str, int, set[str], Dossier, Dossier | None]] = []
    out: list[tuple[int, _Item | HubError | None]] = []
    with ctx.db.session() as session:
        for message_id, code, version in deliveries:
            keys = _keys(session, code, version, target)
            if target in keys:
                _skip_in(session, message_id, "đã gửi phiên bản này (already delivered)")
                out.append((message_id, None))
                continue
            current, data = session.execute(
                select(DossierRow.version, DossierVersion.data)
                .join(DossierVersion, DossierVersion.dossier_code == DossierRow.code)
                .where(DossierRow.code == code, DossierVersion.version == version)
            ).one()
            if current > version:
                _skip_in(session, message_id, f"đã có phiên bản mới hơn {current} (superseded by version {current})")
                out.append((message_id, None))
                continue
            previous = _last_delivered(session, code, target, version)
            read.append((message_id, code, version, keys, Dossier.model_validate(data), previous))
    system = ctx.topology.systems[split_target(target)[0]]
    for message_id, code, version, keys, dossier, previous in read:
        try:
            outgoing = codecs.to_target(ctx, system, dossier, previous, unit_code=unit_code)
        except HubError as exc:
            out.append((message_id, exc))
            continue
        # A revision whose record is the one already delivered (only progress, or fields the target does not
        # hold, changed) pushes no record: the target must never receive the same content twice.
        unchanged = previous is not None and codecs.same_content(
            codecs.to_target(ctx, system, previous, None, unit_code=unit_code).record,
            outgoing.record,
            not_echoed=kind_of(system).not_echoed,
        )
        item = _Item(
            message_id,
            code,
            version,
            outgoing,
            record_pushed=target + RECORD_STEP in keys,
            may_have_pushed=target + INTENT_STEP in keys,
            known_at_target=previous is not None,
            record_unchanged=unchanged,
        )
        out.append((message_id, item))
    return out


def _deliver(
    ctx: HubContext,
    target: str,
    unit_code: str | None,
    unit: str | None,
    leader: tuple[int, str, int],
    followers: list[tuple[int, str, int]],
) -> str:
    prepared = dict(_prepare_all(ctx, target, unit_code, [leader, *followers]))
    leader_item = prepared.pop(leader[0])
    if isinstance(leader_item, HubError):
        raise leader_item  # the leader's own errors are the message's errors
    items = [leader_item] if leader_item is not None else []
    # a follower that cannot be mapped is left for its own message, which meets the error and is retried or parked
    items += [item for item in prepared.values() if isinstance(item, _Item)]
    if not items:
        return MessageState.SKIPPED.value

    system_name, _ = split_target(target)
    connector = ctx.connectors.target(system_name)
    not_echoed = kind_of(ctx.topology.systems[system_name]).not_echoed
    if unit is None:
        raise ConfigurationError(f"Không rõ đơn vị của lần gửi {leader[0]} (delivery {leader[0]} has no unit)")
    attempt = attempts.current()
    if attempt is not None:
        attempt.exchange(request={"batch": [i.outgoing.request_log() for i in items]})

    to_push: list[_Item] = []
    existing: set[str] = set()
    for item in items:
        if item.record_pushed:
            continue
        if item.record_unchanged:
            item.pushed = "unchanged since the delivered revision"
            continue
        if item.may_have_pushed:  # an earlier attempt may have pushed without recording it: ask the target
            found = connector.lookup(unit, item.code)
            if found is not None and codecs.same_content(found, item.outgoing.record, not_echoed=not_echoed):
                item.pushed = "unchanged at target"
                continue
            if found is not None:
                existing.add(item.code)
        elif item.known_at_target:
            existing.add(item.code)
        to_push.append(item)
    if to_push:
        _record_keys(ctx, [i for i in to_push if not i.may_have_pushed], INTENT_STEP, target)
        results = connector.push_dossiers(unit, [i.outgoing.record for i in to_push], existing=existing)
        for item, result in zip(to_push, results, strict=True):
            item.error = result.error
            item.pushed = "pushed" if result.ok else "refused"
    # a failing progress push must not make a retry push the record again
    pushed_with_progress = [i for i in items if i.error is None and i.outgoing.progress and not i.record_pushed]
    _record_keys(ctx, pushed_with_progress, RECORD_STEP, target)
    with_progress = [i for i in items if i.error is None and i.outgoing.progress]
    if with_progress:
        entries = [(i, e) for i in with_progress for e in i.outgoing.progress]
        results = connector.push_progress(unit, [e for _, e in entries])
        for (item, _), result in zip(entries, results, strict=True):
            item.error = item.error or result.error

    done = [item for item in items if item.error is None]
    summary = [
        {
            "message_id": item.message_id,
            "dossier_code": item.code,
            "record": item.pushed,
            "progress_entries": len(item.outgoing.progress),
            "version": item.version,
            "batch_leader": leader[0],
            "batch_size": len(items),
        }
        for item in done
    ]
    _complete(ctx, done, target, summary)
    if attempt is not None:
        attempt.exchange(response={"delivered": summary})
    log.debug("batch_delivered", delivered=len(summary), of=len(items))
    if leader_item is not None and leader_item.error is not None:
        raise leader_item.error
    return MessageState.SUCCEEDED.value if leader_item is not None else MessageState.SKIPPED.value


def _complete(ctx: HubContext, done: list[_Item], target: str, summary: list[dict[str, Any]]) -> None:
    """Record the delivery keys and the messages' success in one transaction for the batch."""
    if not done:
        return
    outcomes = [{k: v for k, v in row.items() if k not in ("message_id", "dossier_code")} for row in summary]
    try:
        with ctx.db.session() as session:
            for item, outcome in zip(done, outcomes, strict=True):
                session.add(
                    Delivery(
                        dossier_code=item.code, dossier_version=item.version, target=target, message_id=item.message_id
                    )
                )
                outbox.finish(session, item.message_id, MessageState.SUCCEEDED, outcome)
    except (IntegrityError, LeaseLost):  # a concurrent duplicate got to one of them first: one by one
        for item, outcome in zip(done, outcomes, strict=True):
            try:
                with ctx.db.session() as session:
                    session.add(
                        Delivery(
                            dossier_code=item.code,
                            dossier_version=item.version,
                            target=target,
                            message_id=item.message_id,
                        )
                    )
                    outbox.finish(session, item.message_id, MessageState.SUCCEEDED, outcome)
            except IntegrityError:  # its key is there: ours is done too
                with ctx.db.session() as session:
                    outbox.finish(session, item.message_id, MessageState.SUCCEEDED, outcome)
            except LeaseLost:
                log.warning("delivery_lease_lost", message_id=item.message_id)  # its new holder ends it


def _skip_in(session: Session, message_id: int, reason: str) -> None:
    outbox.finish(session, message_id, MessageState.SKIPPED, {"reason": reason})
