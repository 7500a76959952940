"""Delivering dossier revisions to one target: the second half of the pipeline.

Exactly-once on top of at-least-once: under a lock per (dossier, target), a delivery is skipped when the
``deliveries`` table already holds its key, or when a newer revision exists (its own delivery carries everything,
and an older one must never overwrite it). Before a record is pushed, a push intent (the key with ``#intent``) is
committed; an attempt that finds an intent from an earlier attempt may be following a push whose outcome was never
recorded (a crash, a timeout), so it looks the target's copy up first and skips the push when it already says the
same, or sends it as an update of a dossier the target has. An older revision's intent with no delivery recorded
since counts too: its delivery is skipped once a newer revision exists, and the newer one's record is often the
same. That closes the window between a push and the commit that records it, and costs the look-up only after an
attempt that may have pushed. The record and its progress entries are two steps with two keys, so a retry after a
failed progress push does not push the record again.

A target that takes batches (the national portal's ``DongBoHoSoMC``) gets them: the message being processed leads
a batch of other waiting deliveries to the same target and unit, each taken only if its dossier's lock is free. A
follower that cannot be delivered in the batch is left queued, and its own message delivers it (or parks it) later;
so a batch never parks or loses anything on another message's behalf. A follower the target refused goes back as
``retrying`` with the refusal on its row, and a delivery carrying a parking error never follows again: its own
message tries it alone, so one bad record is not pushed again in every batch that happens to find it waiting.

A revision going to the copy of the unit that decides the dossier (its processing unit, :func:`hub.routing.
holds_owners_copy`) may come from another unit's copy, and that unit's status may lag: the hub has not yet synced
the decision the owner made a minute ago. A one-stop-shop takes any status of the same stage (a supplement round
4 → 5 → 4 is no regression), so pushing the lagging status would undo the owner's decision. The owner's copy is
looked up first; it gets the revision's status only when that is of a later stage (the result returned at the
receiving counter), otherwise its own status and none of the revision's dates, so that only the other units'
progress entries reach it. The update carries the revision of the copy the look-up read
(:data:`mappings.vendor_updates.EXPECTED_VERSION`): a vendor whose update contract takes it refuses the update when
the owner decided something meanwhile, and the retry looks again.

A hub can forget what it delivered (a new installation, a database restored from a backup) while a target holds the
dossiers already. Before the first push of a dossier the deliveries table has no record of, the target's copy is
looked up (for a kind that can read its status): a copy that says the same is left alone, and one at a stage the
revision may not follow gets nothing, so a forgotten dossier never sends a target back a stage. A database restored
from a backup also remembers deliveries older than the target's copies: until ``verify_deliveries_until`` (set by the
operator who restores it, ``docs/rebuild.md``) every delivery asks the target first, and pushes nothing it holds.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.base import RawRecord
from foundation import logs
from foundation.clock import utcnow
from foundation.errors import Action, ConfigurationError, HubError, error_classes
from hub import attempts, claims, codecs, control
from hub.broker import dossier_mutex
from hub.claims import M
from hub.context import HubContext
from hub.errors import ClaimedElsewhere, DeliveryPaused, LeaseLost
from hub.routing import holds_owners_copy, split_target
from hub.store.models import Delivery, DossierVersion, MessageState
from hub.store.models import Dossier as DossierRow
from mappings.canonical import Dossier
from mappings.codes import Status
from mappings.vendor_updates import EXPECTED_VERSION
from systems.kind import Outgoing, StatusOf
from systems.registry import kind_of

log = logs.get_logger(__name__)

DELIVERIES = cast(Table, Delivery.__table__)  # the keys are written with Core statements (one per batch)

RECORD_STEP = "#record"  # the key suffix recorded when the progress push fails after the record push
INTENT_STEP = "#intent"  # the key suffix committed just before the record push


@dataclass
class _Item:
    """One delivery in a batch: the message, the revision, what the target already has, what to send."""

    message_id: int
    code: str
    version: int
    outgoing: Outgoing
    record_pushed: bool
    may_have_pushed: bool  # an earlier attempt committed a push intent: the target may hold this or an older revision
    known_at_target: bool  # an older revision was delivered: the target has the dossier
    record_unchanged: bool = False  # the record says what the delivered older revision's record said
    owners_copy: _OwnersCopy | None = None  # the target is the copy of the unit that decides the dossier
    status: Status | None = None  # the revision's status, checked against a forgotten target copy's
    pushed: str = "skipped"
    error: HubError | None = None
    kept_status: int | None = None  # the owner's status, sent instead of the revision's lagging one


@dataclass(frozen=True)
class _OwnersCopy:
    """What it takes to send the deciding unit's copy a revision without undoing its own latest decision."""

    revision: Dossier
    previous: Dossier | None
    status_of: StatusOf


@dataclass(frozen=True)
class _Steps:
    """What the deliveries table records of delivering one revision to a target."""

    delivered: bool  # this revision is delivered
    record_pushed: bool  # its record went, its progress failed
    may_have_pushed: bool  # an attempt committed a push intent and no delivery was recorded since: ask the target


def _steps(session: Session, code: str, version: int, target: str) -> _Steps:
    """The recorded steps of delivering ``code`` up to ``version`` to ``target`` (one read).

    An older revision's intent counts as much as this one's: a worker that pushed revision 1 and died left the
    target holding it, and revision 2 (which superseded 1's delivery) must not push the same record again, nor push
    a changed one as a dossier the target does not have.
    """
    wanted = [target, target + RECORD_STEP, target + INTENT_STEP]
    rows = {
        (v, t)
        for v, t in session.execute(
            select(Delivery.dossier_version, Delivery.target).where(
                Delivery.dossier_code == code, Delivery.dossier_version <= version, Delivery.target.in_(wanted)
            )
        )
    }
    last_delivered = max((v for v, t in rows if t == target), default=0)
    return _Steps(
        delivered=(version, target) in rows,
        record_pushed=(version, target + RECORD_STEP) in rows,
        may_have_pushed=any(t == target + INTENT_STEP and v > last_delivered for v, t in rows),
    )


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


def _insert_keys(session: Session, items: list[_Item], target: str) -> None:
    """Record one step's key for several deliveries with one statement in the caller's transaction; a key a
    concurrent duplicate of a message recorded first is left as it is (it says the same)."""
    if not items:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {"dossier_code": i.code, "dossier_version": i.version, "target": target, "message_id": i.message_id}
        for i in items
    ]
    # executemany form: one cached statement whatever the batch's size (SQLAlchemy sends the rows in one round trip)
    session.execute(insert(DELIVERIES).on_conflict_do_nothing(), rows)


def _record_keys(ctx: HubContext, items: list[_Item], target: str) -> None:
    if items:
        with ctx.db.session() as session:
            _insert_keys(session, items, target)


@dataclass
class _Batch:
    """What the batch's opening transaction decided: the unit, the deliveries to make, the followers it claimed,
    and the leader's own outcome when it has nothing to send (None: deliver it) or cannot be mapped."""

    unit: str | None
    items: list[_Item]
    followers: list[int]
    leader: _Item | HubError | None


def run_delivery(ctx: HubContext, message_id: int, payload: dict[str, Any] | None = None) -> str:
    """The deliver actor's work; returns the outcome for the integration log.

    A broker message that carries its payload is claimed under its dossier's lock, in the batch's opening
    transaction (which also claims the followers, reads what the target already has and commits the push intents);
    one without (resent, replayed) is claimed first, to read its payload.
    """
    claimed = payload is None
    if payload is None:
        payload = claims.claim(ctx.db, message_id, lease_seconds=ctx.settings.message_lease_seconds)
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
            mutex = dossier_mutex(f"deliver:{code}:{target}", lease_seconds=ctx.settings.message_lease_seconds)
            if claimed:
                locks.enter_context(mutex.acquire())  # busy: given back, and back shortly
            elif not locks.enter_context(mutex.acquire(raise_on_failure=False)):
                # another worker is delivering this dossier, often this very message as its batch's follower: come
                # back once it has likely finished, as a copy of a claimed message does (nothing to give back)
                raise ClaimedElsewhere(
                    f"Hồ sơ {code} đang được gửi tới {target} (dossier {code} is being delivered to {target})"
                )
            batch = _open(ctx, locks, (message_id, code, version), target, unit_code, batch_size - 1)
            if batch is None:
                return "noop"  # a duplicate copy of the message finished it
            done: set[int] = set()
            refused: dict[int, HubError] = {}
            try:
                return _deliver(ctx, target, message_id, batch, done, refused)
            finally:  # a follower not delivered in the batch goes back to its own message, a refused one marked
                claims.release_refused(ctx.db, {mid: refused[mid] for mid in batch.followers if mid in refused})
                claims.release(ctx.db, [mid for mid in batch.followers if mid not in done and mid not in refused])


def _open(
    ctx: HubContext, locks: ExitStack, leader: tuple[int, str, int], target: str, unit_code: str | None, limit: int
) -> _Batch | None:
    """The batch's opening transaction: claim the leader (None if it has finished), claim and lock other deliveries
    waiting for the same target and unit (one whose dossier lock is busy goes straight back to its own message),
    read what each needs, finish those with nothing to do, and commit the push intents of those to push."""
    lease = ctx.settings.message_lease_seconds
    with ctx.db.session() as session:
        claimed = claims.claim_in(session, leader[0], lease_seconds=lease, returning=M.unit_code)
        if claimed is None:
            return None
        unit = unit_code if unit_code is not None else claimed.unit_code
        followers: list[tuple[int, str, int]] = []
        if limit > 0:
            followers = _claim_followers(session, locks, leader, target, claimed.unit_code, limit, lease)
        prepared = _prepare(ctx, session, target, unit_code, [leader, *followers])
        leader_item = prepared.pop(leader[0])
        # a follower that cannot be mapped is left for its own message, which meets the error and is retried or
        # parked; one with nothing to do was finished above
        items = [item for item in [leader_item, *prepared.values()] if isinstance(item, _Item)]
        intents = [i for i in items if not (i.record_pushed or i.record_unchanged or i.may_have_pushed)]
        _insert_keys(session, intents, target + INTENT_STEP)
    waiting = [mid for mid, _, _ in followers if prepared[mid] is not None]  # the others finished as skipped
    return _Batch(unit, items, waiting, leader_item)


def _claim_followers(
    session: Session,
    locks: ExitStack,
    leader: tuple[int, str, int],
    target: str,
    unit: str | None,
    limit: int,
    lease: float,
) -> list[tuple[int, str, int]]:
    rows = session.execute(
        select(M.id, M.payload)
        .where(
            M.target == target,
            M.state == MessageState.QUEUED.value,
            M.kind == "deliver",
            M.unit_code == unit,
            M.id != leader[0],
            # one that met a parking error in an earlier batch (a refused follower waits as retrying, but a busy
            # lock may make it queued again) goes alone, whatever state it waits in since
            or_(M.error_class.is_(None), M.error_class.not_in(error_classes(Action.PARK))),
        )
        .order_by(M.id)
        .limit(limit)
        # rows another batch's opening transaction holds are not waited for: two leaders claiming each other
        # would deadlock (and that batch takes them anyway)
        .with_for_update(skip_locked=True)
    ).all()
    codes: dict[str, int] = {leader[1]: leader[0]}
    for message_id, payload in rows:  # two revisions of one dossier never travel together: the older would lose
        codes.setdefault(payload["dossier_code"], message_id)
    wanted = [mid for mid in codes.values() if mid != leader[0]]
    claimed = claims.claim_many(session, wanted, lease_seconds=lease)
    taken: list[tuple[int, str, int]] = []
    busy: list[int] = []
    for message_id, payload in claimed.items():
        code = payload["dossier_code"]
        mutex = dossier_mutex(f"deliver:{code}:{target}", lease_seconds=lease)
        if locks.enter_context(mutex.acquire(raise_on_failure=False)):
            taken.append((message_id, code, payload["version"]))
        else:
            busy.append(message_id)
    claims.release_in(session, busy)
    return taken


def _prepare(
    ctx: HubContext, session: Session, target: str, unit_code: str | None, deliveries: list[tuple[int, str, int]]
) -> dict[int, _Item | HubError | None]:
    """What to send for each delivery, read under its lock (None: nothing to do, finished as skipped here; a
    HubError: it cannot be mapped)."""
    out: dict[int, _Item | HubError | None] = {}
    system = ctx.topology.systems[split_target(target)[0]]
    not_echoed = kind_of(system).not_echoed
    status_of = kind_of(system).status_of
    today = ctx.clock().date()
    for message_id, code, version in deliveries:
        steps = _steps(session, code, version, target)
        if steps.delivered:
            _skip_in(session, message_id, "đã gửi phiên bản này (already delivered)")
            out[message_id] = None
            continue
        current, data = session.execute(
            select(DossierRow.version, DossierVersion.data)
            .join(DossierVersion, DossierVersion.dossier_code == DossierRow.code)
            .where(DossierRow.code == code, DossierVersion.version == version)
        ).one()
        if current > version:
            _skip_in(session, message_id, f"đã có phiên bản mới hơn {current} (superseded by version {current})")
            out[message_id] = None
            continue
        previous = _last_delivered(session, code, target, version)
        revision = Dossier.model_validate(data)
        owners_copy = None
        if (
            status_of is not None
            and unit_code is not None
            and holds_owners_copy(ctx.topology, revision, unit_code, today)
        ):
            owners_copy = _OwnersCopy(revision, previous, status_of)
        try:
            outgoing = codecs.to_target(ctx, system, revision, previous, unit_code=unit_code)
        except HubError as exc:
            out[message_id] = exc
            continue
        # A revision whose record is the one already delivered (only progress, or fields the target does not
        # hold, changed) pushes no record: the target must never receive the same content twice.
        unchanged = previous is not None and codecs.same_content(
            codecs.to_target(ctx, system, previous, None, unit_code=unit_code).record,
            outgoing.record,
            not_echoed=not_echoed,
        )
        out[message_id] = _Item(
            message_id,
            code,
            version,
            outgoing,
            record_pushed=steps.record_pushed,
            may_have_pushed=steps.may_have_pushed,
            known_at_target=previous is not None,
            record_unchanged=unchanged,
            owners_copy=owners_copy,
            status=revision.status,
        )
    return out


def _deliver(
    ctx: HubContext, target: str, leader_id: int, batch: _Batch, finished: set[int], refused: dict[int, HubError]
) -> str:
    leader_item, items, unit = batch.leader, batch.items, batch.unit
    if isinstance(leader_item, HubError):
        raise leader_item  # the leader's own errors are the message's errors
    if not items:
        return MessageState.SKIPPED.value

    system_name, _ = split_target(target)
    connector = ctx.connectors.target(system_name)
    not_echoed = kind_of(ctx.topology.systems[system_name]).not_echoed
    status_of = kind_of(ctx.topology.systems[system_name]).status_of
    unit_copy = split_target(target)[1] is not None  # a unit's copy in its one-stop-shop, not the portal
    if unit is None:
        raise ConfigurationError(f"Không rõ đơn vị của lần gửi {leader_id} (delivery {leader_id} has no unit)")
    attempt = attempts.current()
    if attempt is not None:
        attempt.exchange(request={"batch": [i.outgoing.request_log() for i in items]})

    to_push: list[_Item] = []
    existing: set[str] = set()
    until = ctx.settings.verify_deliveries_until
    verifying = until is not None and utcnow() < until  # a restored database: what it says was delivered may be old
    for item in items:
        if item.record_pushed:
            continue
        if item.record_unchanged:
            item.pushed = "unchanged since the delivered revision"
            continue
        # an earlier attempt may have pushed without recording it, the target is the deciding unit's copy, or the
        # hub has no record of delivering the dossier there (a new dossier, or a forgotten one): ask
        forgotten = not item.known_at_target and status_of is not None
        if item.may_have_pushed or item.owners_copy is not None or forgotten or verifying:
            found = connector.lookup(unit, item.code)
            if found is not None and item.owners_copy is not None:
                try:
                    _keep_owners_status(ctx, target, unit, item, item.owners_copy, found)
                except HubError as exc:
                    item.error = exc
                    continue
            if found is not None and codecs.same_content(found, item.outgoing.record, not_echoed=not_echoed):
                item.pushed = "unchanged at target"
                continue
            if found is not None and item.owners_copy is None and status_of is not None:
                try:
                    if _target_ahead(target, item, status_of, found):
                        continue
                except HubError as exc:
                    item.error = exc
                    continue
            if found is not None:
                existing.add(item.code)
                if unit_copy and found.get("PhienBan") is not None:
                    # a vendor whose update takes the revision read refuses it if the copy changed since
                    record = {**item.outgoing.record, EXPECTED_VERSION: found["PhienBan"]}
                    item.outgoing = Outgoing(record, item.outgoing.progress)
        elif item.known_at_target:
            existing.add(item.code)
        to_push.append(item)
    if attempt is not None and any(i.kept_status is not None for i in items):  # the log shows what is sent
        attempt.exchange(request={"batch": [i.outgoing.request_log() for i in items]})
    if to_push:  # their push intents were committed by the batch's opening transaction
        results = connector.push_dossiers(unit, [i.outgoing.record for i in to_push], existing=existing)
        for item, result in zip(to_push, results, strict=True):
            item.error = result.error
            item.pushed = "pushed" if result.ok else "refused"
    with_progress = [i for i in items if i.error is None and i.outgoing.progress]
    if with_progress:
        # a failing progress push must not make a retry push the record again: the record step's key is recorded
        # when it fails (a crash in between leaves the push intent, and the retry's look-up finds the record)
        entries = [(i, e) for i in with_progress for e in i.outgoing.progress]
        record_done = [i for i in with_progress if not i.record_pushed]
        try:
            results = connector.push_progress(unit, [e for _, e in entries])
        except BaseException:
            _record_keys(ctx, record_done, target + RECORD_STEP)
            raise
        for (item, _), result in zip(entries, results, strict=True):
            item.error = item.error or result.error
        _record_keys(ctx, [i for i in record_done if i.error is not None], target + RECORD_STEP)

    done = [item for item in items if item.error is None]
    summary = [
        {
            "message_id": item.message_id,
            "dossier_code": item.code,
            "record": item.pushed,
            "progress_entries": len(item.outgoing.progress),
            "version": item.version,
            "batch_leader": leader_id,
            "batch_size": len(items),
            **({"kept_owners_status": item.kept_status} if item.kept_status is not None else {}),
        }
        for item in done
    ]
    _complete(ctx, done, target, summary)
    finished.update(item.message_id for item in done)
    refused.update((item.message_id, item.error) for item in items if item.error is not None)
    if attempt is not None:
        attempt.exchange(response={"delivered": summary})
    log.debug("batch_delivered", delivered=len(summary), of=len(items))
    if leader_item is not None and leader_item.error is not None:
        raise leader_item.error
    return MessageState.SUCCEEDED.value if leader_item is not None else MessageState.SKIPPED.value


def _keep_owners_status(
    ctx: HubContext, target: str, unit: str, item: _Item, owners_copy: _OwnersCopy, found: RawRecord
) -> None:
    """Make ``item`` carry the owner's own status and dates unless the revision's status is of a later stage (see
    the module's doc); ValidationFailed when the owner's copy says no status the hub can read."""
    revision = owners_copy.revision
    try:
        owners = owners_copy.status_of(found)
    except HubError as exc:
        exc.dossier_code, exc.target = revision.code, target
        raise
    if revision.status.stage > owners.stage:
        return  # decided elsewhere at a later stage (the result returned at the receiving counter): sent as it is
    instead = revision.model_copy(update={"status": owners, "finished_at": None, "returned_at": None})
    system = ctx.topology.systems[split_target(target)[0]]
    item.outgoing = codecs.to_target(ctx, system, instead, owners_copy.previous, unit_code=unit)
    if owners is not revision.status:
        item.kept_status = owners.value
        log.info("owners_status_kept", revision_status=revision.status.value, owners_status=owners.value)


def _target_ahead(target: str, item: _Item, status_of: StatusOf, found: RawRecord) -> bool:
    """Whether the target's copy is at a stage ``item``'s revision may not follow (the hub forgot what it delivered:
    a new or restored database, and a source that lagged); then nothing of it is sent, neither the record nor its
    progress, which the target had before the revision it holds. ValidationFailed when the copy says no status."""
    try:
        held = status_of(found)
    except HubError as exc:
        exc.dossier_code, exc.target = item.code, target
        raise
    if item.status is None or item.status.may_follow(held):
        return False
    item.pushed = f"target holds status {held.value}, a later stage"
    item.outgoing = Outgoing(item.outgoing.record, [])
    log.info("target_ahead", revision_status=item.status.value, target_status=held.value)
    return True


def _complete(ctx: HubContext, done: list[_Item], target: str, summary: list[dict[str, Any]]) -> None:
    """Record the delivery keys and the messages' success in one transaction for the batch."""
    if not done:
        return
    outcomes = [{k: v for k, v in row.items() if k not in ("message_id", "dossier_code")} for row in summary]
    try:
        with ctx.db.session() as session:
            _insert_keys(session, done, target)
            for item, outcome in zip(done, outcomes, strict=True):
                claims.finish(session, item.message_id, MessageState.SUCCEEDED, outcome)
    except LeaseLost:  # one of them was taken over (its lease ran out): the others one by one
        for item, outcome in zip(done, outcomes, strict=True):
            try:
                with ctx.db.session() as session:
                    _insert_keys(session, [item], target)
                    claims.finish(session, item.message_id, MessageState.SUCCEEDED, outcome)
            except LeaseLost:
                log.warning("delivery_lease_lost", message_id=item.message_id)  # its new holder ends it


def _skip_in(session: Session, message_id: int, reason: str) -> None:
    claims.finish(session, message_id, MessageState.SKIPPED, {"reason": reason})
