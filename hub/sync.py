"""Polling a unit's change feed and applying changed dossiers: the first half of the pipeline.

A poll reads the source's change feed from the watermark (minus an overlap window), records one ``sync`` message
per change it has not seen, and moves the watermark in the same transaction, so the watermark never passes a
change that is not durably recorded. A sync fetches the dossier, maps it to the canonical model and applies it
under a per-dossier lock with the monotonic guard: an older revision of a copy, a status regression or a stale
copy changes nothing; an accepted change becomes a new hub revision with one ``deliver`` message per target. A
record older than the revision its feed entry announced (a lagging replica) is never applied: the sync is retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import ChangeRef, FeedProblem
from connectors.errors import UnreadableEntry
from foundation import logs
from foundation.clock import VN_TZ, utcnow
from foundation.errors import ConfigurationError
from hub import claims, codecs, outbox
from hub.broker import dossier_mutex
from hub.context import HubContext
from hub.errors import StaleReplica
from hub.routing import holds_owners_copy, targets_for
from hub.store.db import Database
from hub.store.models import Dossier as DossierRow
from hub.store.models import DossierVersion, Message, MessageState, Watermark
from mappings.canonical import Dossier, ProgressEntry
from mappings.codes import Status

log = logs.get_logger(__name__)

EPOCH = datetime(2000, 1, 1, tzinfo=VN_TZ)  # the first poll of a unit reads its whole feed
UNREADABLE_SHOWN = 20  # unreadable feed entries a poll's outcome lists (all are counted)


@dataclass(frozen=True)
class PollResult:
    """What one poll saw: changes in the feed, pages read, the newest change time, messages it recorded."""

    changes: int = 0
    pages: int = 0
    newest: datetime | None = None
    message_ids: list[int] = field(default_factory=list)
    unreadable: list[FeedProblem] = field(default_factory=list)  # entries left out, each named


def request_poll(db: Database, system: str, unit_code: str, *, reason: str = "schedule") -> int:
    """Record and enqueue a poll of ``unit_code``'s changes in ``system``; returns the message id."""
    payload = {"system": system, "unit_code": unit_code, "reason": reason}
    return outbox.request(db, "poll", payload, unit_code=unit_code, source=system)


def watermark(session: Session, system: str, unit_code: str) -> datetime | None:
    row = session.get(Watermark, (system, unit_code))
    return row.value if row else None


def run_poll(ctx: HubContext, message_id: int) -> str:
    """The poll actor's work: from the watermark minus the overlap, to now."""
    payload = claims.claim(ctx.db, message_id, lease_seconds=ctx.settings.message_lease_seconds)
    if payload is None:
        return "noop"
    system, unit_code = payload["system"], payload["unit_code"]
    # One poll of a unit at a time: two at once (a slow poll and the next tick, or an operator's "poll now") would
    # both find a change not yet recorded and record it twice. Busy: given back, and back shortly.
    with dossier_mutex(f"poll:{system}:{unit_code}", lease_seconds=ctx.settings.message_lease_seconds).acquire():
        with ctx.db.session() as session:
            mark = watermark(session, system, unit_code)
        since = (mark - timedelta(seconds=ctx.settings.poll_overlap_seconds)) if mark else EPOCH
        with logs.bound(unit=unit_code, system=system):
            result = poll_unit(ctx, system, unit_code, since)
    summary = {
        "since": since.isoformat(),
        "changes": result.changes,
        "pages": result.pages,
        "recorded": len(result.message_ids),
        "newest": result.newest.isoformat() if result.newest else None,
    }
    if result.unreadable:  # the console shows the poll's outcome: which entries of the unit's feed were left out
        summary["unreadable"] = [
            {"position": p.position, "dossier_code": p.dossier_code, "field": p.field_path, "message": p.message}
            for p in result.unreadable[:UNREADABLE_SHOWN]
        ]
        summary["unreadable_count"] = len(result.unreadable)
    with ctx.db.session() as session:
        claims.finish(session, message_id, MessageState.SUCCEEDED, summary)
    return MessageState.SUCCEEDED.value


def poll_unit(
    ctx: HubContext,
    system: str,
    unit_code: str,
    since: datetime,
    until: datetime | None = None,
    *,
    advance_watermark: bool | None = None,
) -> PollResult:
    """Read ``unit_code``'s change feed from ``since`` (to ``until``), recording a sync message per new change.

    The watermark moves with every page, in the page's transaction; a bounded backfill (``until`` given) leaves
    it alone unless told otherwise, so that it never moves a live poll's watermark backwards.
    """
    advance = until is None if advance_watermark is None else advance_watermark
    source = ctx.connectors.source(system)
    token: str | None = None
    changes = pages = 0
    newest: datetime | None = None
    recorded: list[int] = []
    unreadable: list[FeedProblem] = []
    while True:
        page = source.fetch_changes(unit_code, since, token)
        pages += 1
        for problem in page.problems:
            log.warning(
                "feed_entry_unreadable", dossier_code=problem.dossier_code, field=problem.field_path, page=pages
            )
        unreadable.extend(page.problems)
        if page.problems:  # committed before the page's own transaction (below) moves the watermark past them
            with ctx.db.session() as session:
                _park_unreadable(session, system, unit_code, page.problems)
        refs = [r for r in page.items if until is None or r.updated_at < until]
        changes += len(refs)
        if refs:
            page_newest = max(r.updated_at for r in refs)
            newest = page_newest if newest is None else max(newest, page_newest)
            with ctx.db.session() as session:
                messages = _record_changes(session, system, unit_code, refs)
                if advance:
                    _advance(session, system, unit_code, page_newest)
            outbox.send(messages)
            recorded.extend(m.id for m in messages)
        token = page.next_token
        if token is None or (until is not None and len(refs) < len(page.items)):
            break  # the feed is oldest first: a page that reached ``until`` ends a bounded poll
    return PollResult(changes=changes, pages=pages, newest=newest, message_ids=recorded, unreadable=unreadable)


def _record_changes(session: Session, system: str, unit_code: str, refs: Sequence[ChangeRef]) -> list[Message]:
    """One sync message per (dossier, revision) not seen before from this source; duplicates of the overlap go."""
    latest: dict[str, ChangeRef] = {}
    for ref in refs:  # a feed may repeat a dossier (out of order, duplicated): keep its newest revision
        if ref.dossier_code not in latest or ref.version > latest[ref.dossier_code].version:
            latest[ref.dossier_code] = ref
    if not latest:
        return []
    # Only the dossier codes go to SQL, so the planner uses the (dossier_code, id) index whatever the log's size;
    # a dossier has a handful of messages, filtered here.
    rows = session.execute(
        select(Message.dossier_code, Message.dossier_version, Message.kind, Message.source, Message.unit_code).where(
            Message.dossier_code.in_(list(latest))
        )
    ).all()
    seen = {
        (code, version)
        for code, version, kind, src, unit in rows
        if kind == "sync" and src == system and unit == unit_code
    }
    messages = []
    for ref in latest.values():
        if (ref.dossier_code, ref.version) in seen:
            continue
        message = outbox.record(
            session,
            kind="sync",
            payload={
                "system": system,
                "unit_code": unit_code,
                "dossier_code": ref.dossier_code,
                "version": ref.version,
                "updated_at": ref.updated_at.isoformat(),
                # the platform's own id, when it is asked by that id: the dossier code stays the message's key
                **({"source_id": ref.source_id} if ref.source_id else {}),
            },
            dossier_code=ref.dossier_code,
            dossier_version=ref.version,
            unit_code=unit_code,
            source=system,
        )
        messages.append(message)
    return messages


def _park_unreadable(session: Session, system: str, unit_code: str, problems: Sequence[FeedProblem]) -> None:
    """A feed entry that names its dossier but cannot be read otherwise becomes a parked sync of that dossier, with
    the vendor's element at fault: the operator sees it among the parked, and replays it once the vendor has fixed
    the entry (a replay fetches the dossier by its code). One parked message per dossier and unit while it waits:
    the next poll's overlap reads the same entry again."""
    codes = {p.dossier_code: p for p in problems if p.dossier_code is not None}
    if not codes:
        return
    waiting = set(
        session.execute(
            select(Message.dossier_code).where(
                Message.dossier_code.in_(list(codes)),
                Message.kind == "sync",
                Message.source == system,
                Message.unit_code == unit_code,
                Message.state == MessageState.PARKED.value,
                Message.error_class == UnreadableEntry.error_class,
            )
        ).scalars()
    )
    now = utcnow()
    for code, problem in codes.items():
        if code in waiting:
            continue
        message = outbox.record(
            session,
            kind="sync",
            payload={"system": system, "unit_code": unit_code, "dossier_code": code, "version": None},
            dossier_code=code,
            unit_code=unit_code,
            source=system,
        )
        message.state = MessageState.PARKED.value
        message.error_class = UnreadableEntry.error_class
        message.error_message = f"{problem.message} [{problem.field_path}]"
        message.finished_at = now


def _advance(session: Session, system: str, unit_code: str, to: datetime) -> None:
    row = session.get(Watermark, (system, unit_code), with_for_update=True)
    if row is None:
        session.add(Watermark(system=system, unit_code=unit_code, value=to))
    elif to > row.value:  # never backwards, whatever order pages or pollers finish in
        row.value = to


# ── applying a dossier ────────────────────────────────────────────────────────────────────────────────────


def content_hash(data: dict[str, Any]) -> str:
    """A fingerprint of what a dossier says (its JSON dump, dumped once per apply), without the copy's own
    bookkeeping (revision, change time)."""
    said = {k: v for k, v in data.items() if k not in ("version", "updated_at")}
    return hashlib.sha256(json.dumps(said, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def merge_progress(*lists: Sequence[ProgressEntry]) -> tuple[ProgressEntry, ...]:
    """Every progress entry of all copies, once each, in time order."""
    merged: dict[tuple[Any, ...], ProgressEntry] = {}
    for entries in lists:
        for entry in entries:
            merged.setdefault(entry.identity, entry)
    return tuple(sorted(merged.values(), key=lambda e: (e.at, e.status)))


@dataclass(frozen=True)
class Applied:
    """The outcome of applying one copy of a dossier."""

    accepted: bool
    reason: str
    version: int | None = None
    deliveries: list[Message] = field(default_factory=list)


def run_sync(ctx: HubContext, message_id: int) -> str:
    """The sync actor's work: fetch the dossier, map it, apply it, and fan out deliveries.

    The message is claimed before the fetch (not in the apply's transaction): a copy of its broker message that
    arrives meanwhile must find it running, and neither fetch the dossier again nor apply it twice.
    """
    payload = claims.claim(ctx.db, message_id, lease_seconds=ctx.settings.message_lease_seconds)
    if payload is None:
        return "noop"
    system, unit_code, code = payload["system"], payload["unit_code"], payload["dossier_code"]
    with logs.bound(dossier_code=code, unit=unit_code):
        announced = _announced(payload, ctx.clock())
        raw = ctx.connectors.source(system).get_dossier(unit_code, code, seen=announced)
        dossier = codecs.to_canonical(ctx, system, raw)
        if dossier.version < announced.version:
            # A read replica behind its feed: applying it would let a hub that has forgotten the dossier (a new
            # or restored database, where the monotonic guard has nothing to compare with) send an older status.
            raise StaleReplica(
                f"Hồ sơ {code}: nguồn {system} trả phiên bản {dossier.version}, cũ hơn phiên bản "
                f"{announced.version} đã báo (the source answered revision {dossier.version}, older than the "
                f"announced {announced.version}; tried again)",
                dossier_code=code,
            )
        with dossier_mutex(f"apply:{code}", lease_seconds=ctx.settings.message_lease_seconds).acquire():
            with ctx.db.session() as session:
                applied = apply(ctx, session, dossier, system=system, unit_code=unit_code, message_id=message_id)
                claims.finish(
                    session,
                    message_id,
                    MessageState.SUCCEEDED if applied.accepted else MessageState.SKIPPED,
                    {"accepted": applied.accepted, "reason": applied.reason, "version": applied.version},
                    procedure_code=dossier.local_procedure_code,
                )
            outbox.send(applied.deliveries)
        log.debug("dossier_applied", accepted=applied.accepted, reason=applied.reason, version=applied.version)
        return MessageState.SUCCEEDED.value if applied.accepted else MessageState.SKIPPED.value


def _announced(payload: dict[str, Any], fetched_at: datetime) -> ChangeRef:
    """The feed entry a sync message was recorded from. A sync with none (a fresh replay of a delivery, a parked
    feed entry whose time could not be read) takes the fetch as its change: the time the hub read the copy, and
    revision 0 (older than any the feed announces) for a record that does not carry its own."""
    source_id = payload.get("source_id")
    if not payload.get("updated_at"):
        return ChangeRef(payload["dossier_code"], fetched_at, int(payload.get("version") or 0), source_id)
    moment = datetime.fromisoformat(payload["updated_at"])
    return ChangeRef(payload["dossier_code"], moment, int(payload["version"]), source_id)


def apply(
    ctx: HubContext, session: Session, dossier: Dossier, *, system: str, unit_code: str, message_id: int | None
) -> Applied:
    """Apply one copy of a dossier to the store under the monotonic guard, recording deliveries if accepted."""
    source_key = f"{system}:{unit_code}"
    today = ctx.clock().date()
    row = session.get(DossierRow, dossier.code, with_for_update=True)
    if row is not None:
        # the copy's own revision counter (PhienBan at the source), never the hub's revision of the dossier
        seen = row.source_versions.get(source_key)
        if seen is not None and dossier.version <= int(seen):
            return Applied(
                False,
                f"bản sao {source_key} phiên bản {dossier.version} không mới hơn phiên bản {seen} đã nhận "
                f"(copy revision {dossier.version} at {source_key} not newer than {seen}, already applied)",
            )
        row.source_versions = {**row.source_versions, source_key: dossier.version}
        stored = Dossier.model_validate(row.data)
        if not dossier.status.may_follow(Status(row.status)):
            return Applied(
                False,
                f"từ chối lùi trạng thái {row.status} → {dossier.status.value} "
                f"(status regression refused: {Status(row.status).label} → {dossier.status.label})",
            )
        is_owner = holds_owners_copy(ctx.topology, stored, unit_code, today) or holds_owners_copy(
            ctx.topology, dossier, unit_code, today
        )
        progress = merge_progress(stored.progress, dossier.progress)
        if not is_owner and dossier.status.stage <= stored.status.stage:
            # Another unit's copy of a transferred dossier adds its progress entries, never its status or record: it
            # may lag the processing unit (a payment round 4 -> 6 -> 4 it has not heard the end of); only a later
            # stage (the receiver returning the result) comes from it whole.
            if len(progress) == len(stored.progress):
                return Applied(False, f"bản sao của đơn vị {unit_code} không có gì mới (stale copy, nothing new)")
            dossier = stored
        dossier = dossier.model_copy(update={"progress": progress})
        data = dossier.model_dump(mode="json")
        digest = content_hash(data)
        if digest == row.content_hash:
            return Applied(False, "nội dung không đổi (no change)")
        version = row.version + 1
        _store(row, dossier, data, version, digest)
    else:
        version = 1
        data = dossier.model_dump(mode="json")
        digest = content_hash(data)
        row = DossierRow(code=dossier.code, source_versions={source_key: dossier.version})
        _store(row, dossier, data, version, digest)
        session.add(row)
    session.add(
        DossierVersion(
            dossier_code=dossier.code,
            version=version,
            status=dossier.status.value,
            source_updated_at=dossier.updated_at,
            data=data,
            message_id=message_id,
        )
    )
    try:
        targets = targets_for(ctx.topology, dossier, source_unit=unit_code, on=today)
    except ConfigurationError as exc:
        exc.dossier_code = dossier.code
        raise
    deliveries = []
    for target in targets:
        message = outbox.record(
            session,
            kind="deliver",
            payload={"dossier_code": dossier.code, "version": version, "target": target, "source": source_key},
            dossier_code=dossier.code,
            dossier_version=version,
            unit_code=dossier.receiving_unit,
            procedure_code=dossier.local_procedure_code,
            source=source_key,
            target=target,
        )
        deliveries.append(message)
    return Applied(True, "đã nhận phiên bản mới (accepted)", version, deliveries)


def _store(row: DossierRow, dossier: Dossier, data: dict[str, Any], version: int, digest: str) -> None:
    row.receiving_unit = dossier.receiving_unit
    row.processing_unit = dossier.processing_unit
    row.local_procedure_code = dossier.local_procedure_code
    row.national_procedure_code = dossier.national_procedure_code
    row.status = dossier.status.value
    row.version = version
    row.content_hash = digest
    row.source_updated_at = dossier.updated_at
    row.received_at = dossier.received_at
    row.appointment_at = dossier.appointment_at
    row.finished_at = dossier.finished_at
    row.data = data
