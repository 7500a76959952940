"""Backfill: read a unit's changes over a past date range, chunk by chunk, resumably and gently.

Each chunk ``[start, end)`` is one bounded poll (``hub.sync.poll_unit`` with ``until``): the hub records one sync
message per change it has not seen, durably, before the chunk counts as done. Progress is a ``backfill_runs`` row
per (system, unit, range) saved after every chunk, so a backfill that is interrupted (Ctrl-C, SIGKILL, a crash)
and started again with the same arguments resumes at the first chunk not done. A chunk that ran but was not yet
saved is read again; the hub's idempotency (a change already recorded is not recorded twice) makes that harmless.
Remote calls go through the connectors' rate limiter; ``pace`` adds a pause between chunks on top of it.
A backfill never moves a unit's live watermark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foundation.clock import utcnow
from foundation.logs import get_logger
from hub.context import HubContext
from hub.store.models import UNIT, Base
from hub.sync import poll_unit

log = get_logger(__name__)


class BackfillRun(Base):
    """How far a backfill of one (system, unit, date range) has durably got, so a restart resumes there."""

    __tablename__ = "backfill_runs"

    system: Mapped[str] = mapped_column(String(60), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(UNIT), primary_key=True)
    range_from: Mapped[datetime] = mapped_column(primary_key=True)
    range_to: Mapped[datetime] = mapped_column(primary_key=True)
    done_until: Mapped[datetime]  # every change before this instant has been recorded
    chunks_done: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(12))  # running, done
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]


class PollOutcome(Protocol):
    @property
    def changes(self) -> int: ...


# ``hub.sync.poll_unit``'s shape: (ctx, system, unit_code, since, until) -> a result with ``changes``.
PollUnit = Callable[[HubContext, str, str, datetime, datetime], PollOutcome]


class RunState:
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """One chunk finished: reported to the progress bar."""

    unit_code: str
    start: datetime
    end: datetime
    changes: int
    chunks_done: int
    chunks_total: int


@dataclass(frozen=True, slots=True)
class UnitProgress:
    """Where one unit's backfill stands."""

    system: str
    unit_code: str
    done_until: datetime
    chunks_done: int
    chunks_total: int
    changes: int
    state: str


def chunks(start: datetime, end: datetime, size: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive half-open chunks of ``size`` (the last may be shorter)."""
    if size <= timedelta(0):
        raise ValueError("chunk size must be positive")
    cursor = start
    while cursor < end:
        following = min(cursor + size, end)
        yield cursor, following
        cursor = following


def count_chunks(start: datetime, end: datetime, size: timedelta) -> int:
    return sum(1 for _ in chunks(start, end, size))


def run_backfill(
    ctx: HubContext,
    system: str,
    units: Sequence[str],
    range_from: datetime,
    range_to: datetime,
    *,
    chunk: timedelta = timedelta(hours=24),
    pace: float = 0.0,
    poll: PollUnit | None = None,
    on_start: Callable[[UnitProgress], None] | None = None,
    on_chunk: Callable[[ChunkDone], None] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> list[UnitProgress]:
    """Backfill ``units`` of ``system`` over ``[range_from, range_to)``, resuming where an earlier run stopped."""
    if range_to <= range_from:
        raise ValueError(f"empty range: {range_from.isoformat()} .. {range_to.isoformat()}")
    poll = poll or poll_unit
    total = count_chunks(range_from, range_to, chunk)
    finished: list[UnitProgress] = []
    for unit_code in units:
        progress = _start(ctx, system, unit_code, range_from, range_to, total)
        if on_start is not None:
            on_start(progress)
        done = progress.chunks_done
        changes = progress.changes
        for start, end in chunks(progress.done_until, range_to, chunk):
            result = poll(ctx, system, unit_code, start, end)
            done += 1
            changes += result.changes
            _save(ctx, system, unit_code, range_from, range_to, end, result.changes, finished=end >= range_to)
            log.info("backfill.chunk", unit=unit_code, start=start.isoformat(), end=end.isoformat(), changes=changes)
            if on_chunk is not None:
                on_chunk(ChunkDone(unit_code, start, end, result.changes, done, total))
            if pace > 0 and end < range_to:
                sleep(pace)
        finished.append(UnitProgress(system, unit_code, range_to, done, total, changes, RunState.DONE))
    return finished


def _start(
    ctx: HubContext, system: str, unit_code: str, range_from: datetime, range_to: datetime, total: int
) -> UnitProgress:
    with ctx.db.session() as session:
        run = session.get(BackfillRun, (system, unit_code, range_from, range_to))
        if run is None:
            run = BackfillRun(
                system=system,
                unit_code=unit_code,
                range_from=range_from,
                range_to=range_to,
                done_until=range_from,
                chunks_done=0,
                changes=0,
                state=RunState.RUNNING,
            )
            session.add(run)
        elif run.done_until < range_to:
            log.info("backfill.resume", unit=unit_code, done_until=run.done_until.isoformat())
        return UnitProgress(system, unit_code, run.done_until, run.chunks_done, total, run.changes, run.state)


def _save(
    ctx: HubContext,
    system: str,
    unit_code: str,
    range_from: datetime,
    range_to: datetime,
    done_until: datetime,
    changes: int,
    *,
    finished: bool,
) -> None:
    with ctx.db.session() as session:
        run = session.get(BackfillRun, (system, unit_code, range_from, range_to), with_for_update=True)
        if run is None:
            raise LookupError(f"backfill run of {system}/{unit_code} disappeared")
        run.done_until = done_until
        run.chunks_done += 1
        run.changes += changes
        if finished:
            run.state = RunState.DONE
            run.finished_at = utcnow()
