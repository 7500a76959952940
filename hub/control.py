"""Operator switches: pause deliveries to a target (e.g. during a portal outage) and resume them without loss.

A delivery to a paused target is held in the integration log (state ``held``), not kept spinning in the broker;
resuming sends every held message again.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from foundation.clock import utcnow
from hub import outbox
from hub.store.db import Database
from hub.store.models import AuditAction, AuditEntry, Message, MessageState, TargetSwitch

_CACHE_SECONDS = 2.0  # workers check the switch per delivery; a short cache keeps that off the database
_cache: dict[tuple[int, str], tuple[float, bool]] = {}


def is_paused(db: Database, target: str) -> bool:
    key = (id(db), target)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    with db.session() as session:
        paused = bool(session.execute(select(TargetSwitch.paused).where(TargetSwitch.target == target)).scalar())
    _cache[key] = (now, paused)
    return paused


def pause_target(db: Database, target: str, *, reason: str, user: str | None) -> None:
    with db.session() as session:
        switch = session.get(TargetSwitch, target) or TargetSwitch(target=target)
        switch.paused, switch.reason, switch.updated_by = True, reason, user
        session.add(switch)
        session.add(
            AuditEntry(username=user, action=AuditAction.TARGET_PAUSE, subject=target, details={"reason": reason})
        )
    _cache.pop((id(db), target), None)


def resume_target(db: Database, target: str, *, user: str | None) -> int:
    """Resume deliveries to ``target`` and send its held messages again; returns how many."""
    with db.session() as session:
        switch = session.get(TargetSwitch, target) or TargetSwitch(target=target)
        switch.paused, switch.reason, switch.updated_by, switch.updated_at = False, None, user, utcnow()
        session.add(switch)
        held = list(
            session.scalars(
                select(Message.id).where(Message.target == target, Message.state == MessageState.HELD.value)
            )
        )
        session.add(
            AuditEntry(username=user, action=AuditAction.TARGET_RESUME, subject=target, details={"held": len(held)})
        )
    _cache.pop((id(db), target), None)
    return outbox.resend(db, held)
