"""Done-when 2: a scheduler killed and restarted later resumes from the watermark; every change made while it
was down is synced, none twice."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.store.models import Dossier, Message, Watermark
from tests.hub.conftest import Hub
from tests.hub.factories import AGENCY, T0, record
from tests.schedules.conftest import SOURCE, Processes
from tests.schedules.pump import Pump, synced

UNITS = ("20965", "20968")
ONLY = tuple(arg for unit in UNITS for arg in ("--only", f"poll:{SOURCE}:{unit}"))
ARGS = ("--poll-every", "1", "--no-workers", "--claims", "database", *ONLY)


def _code(unit: str, n: int) -> str:
    return f"{AGENCY[unit]}-240304-{n:04d}"


def _put(hub: Hub, unit: str, n: int, version: int, at: datetime) -> tuple[str, int]:
    code = _code(unit, n)
    status = 2 if version == 1 else 4
    ref = hub.source.put(unit, record(code, unit=unit, version=version, status=status, updated_at=at), updated_at=at)
    assert ref.version == version
    return code, version


def _polls(hub: Hub) -> int:
    with hub.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Message).where(Message.kind == "poll")) or 0)


def _portal_pushes(hub: Hub) -> Counter[str]:
    return Counter(c for call in hub.portal.calls if call.operation == "push_dossiers" for c in call.dossier_codes)


@pytest.mark.slow
def test_a_restarted_scheduler_syncs_every_change_made_while_it_was_down_once(
    embedded_hub: Hub, processes: Processes
) -> None:
    hub = embedded_hub
    env = {"DVC_HUB_DATABASE_URL": hub.db.url, "DVC_HUB_BROKER_URL": "memory://"}
    pump = Pump(hub)
    # Given a scheduler that has synced twelve dossiers (pages of 7: polls follow continuation tokens),
    before = [_put(hub, u, n, 1, T0 + timedelta(minutes=n)) for u in UNITS for n in range(1, 7)]
    first = processes.scheduler(env, *ARGS)
    pump.until(lambda: set(before) <= set(synced(hub)), what="first sync")

    # when it is killed, and changes happen while no scheduler runs: new dossiers and new revisions of old ones,
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    pump.once()  # polls it enqueued just before dying
    polls_at_kill = _polls(hub)
    later = T0 + timedelta(hours=1)
    during = [_put(hub, u, n, 1, later + timedelta(minutes=n)) for u in UNITS for n in range(7, 12)]
    during += [_put(hub, u, n, 2, later + timedelta(minutes=30 + n)) for u in UNITS for n in (1, 2, 3)]
    time.sleep(2.5)  # ticks pass with nobody to claim them
    pump.once()
    assert _polls(hub) == polls_at_kill
    assert not set(during) & set(synced(hub))

    # and a scheduler is started again later,
    restarted_at = datetime.now(T0.tzinfo)
    processes.scheduler(env, *ARGS)
    pump.until(lambda: set(during) <= set(synced(hub)), what="catch-up after restart")
    pump.until(lambda: _polls(hub) >= polls_at_kill + 3 * len(UNITS), what="a few more ticks")

    # then every change was recorded exactly once, each revision reached the hub and the portal once,
    counts = synced(hub)
    assert {key: counts[key] for key in before + during} == {key: 1 for key in before + during}
    assert sum(counts.values()) == len(before) + len(during)
    with hub.db.session() as session:
        versions = dict(session.execute(select(Dossier.code, Dossier.version)).all())
        marks = {w.unit_code: w.value for w in session.scalars(select(Watermark))}
    expected_versions = Counter(code for code, _ in before + during)
    assert versions == dict(expected_versions)
    assert _portal_pushes(hub) == expected_versions
    # and the watermark stands at the newest change of each unit.
    for unit in UNITS:
        assert marks[unit] == later + timedelta(minutes=30 + 3)
    # The missed ticks cost one catch-up poll per unit, right at restart, not one per missed tick.
    with hub.db.session() as session:
        reasons = session.scalars(
            select(Message.payload).where(Message.kind == "poll").order_by(Message.id).offset(polls_at_kill)
        ).all()
    ticks = [datetime.fromisoformat(r["reason"].removeprefix("schedule ")) for r in reasons]
    assert min(ticks) >= restarted_at.replace(microsecond=0) - timedelta(seconds=1)
