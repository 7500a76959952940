"""Reconciliation through the connectors only (Done-when 3): dossiers lost by and altered at the portal are found
missing and mismatched, and the replay job made from the run repairs them, so a second run finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from hub import replay
from hub.store.db import Database
from hub.sync import request_poll
from reports.reconciliation import Pacer, Reconciler, repair, runs, sampled, through_hub
from tests.hub.conftest import Hub, running_hub
from tests.hub.factories import COMMUNE, T0, dossier_code, record

SOURCE = "motcua-quangnam"


@pytest.fixture
def hub(db: Database) -> Iterator[Hub]:
    with running_hub(db) as running:
        yield running


def reconciler(hub: Hub) -> Reconciler:
    return through_hub(hub.ctx, SOURCE)


def test_lost_and_altered_dossiers_are_found_and_the_replay_job_repairs_them(hub: Hub) -> None:
    # Given six dossiers synced and delivered to the portal
    codes = [dossier_code(COMMUNE, n) for n in range(1, 7)]
    for code in codes:
        hub.source.put(COMMUNE, record(code), updated_at=T0)
    request_poll(hub.db, SOURCE, COMMUNE, reason="test")
    hub.drain()
    assert all(hub.portal.lookup(COMMUNE, code) is not None for code in codes)
    since, until = T0 - timedelta(days=1), T0 + timedelta(days=1)
    assert reconciler(hub).run(COMMUNE, since, until).differences == []

    # When the portal loses two and shows an earlier status for one (a copy at a *later* stage than the source's is
    # never taken back: the repair forgets the delivery, and a forgotten dossier never regresses a target, #22)
    hub.portal.drop_target(codes[0])
    hub.portal.drop_target(codes[3])
    altered = hub.portal.lookup(COMMUNE, codes[4])
    assert altered is not None
    hub.portal.seed_target({**altered, "TrangThaiHoSo": "1"})
    calls_before = len(hub.portal.calls)
    found = reconciler(hub).run(COMMUNE, since, until)

    # Then the run names them, having asked the portal once per dossier
    assert [(d.dossier_code, d.kind, d.source_status, d.portal_status) for d in found.differences] == [
        (codes[0], "missing", 2, None),
        (codes[3], "missing", 2, None),
        (codes[4], "mismatched", 2, 1),
    ]
    assert (found.listed, found.checked) == (6, 6)
    assert [c.operation for c in hub.portal.calls[calls_before:]] == ["lookup"] * 6

    # When the run becomes a replay job and the job runs
    job_id = repair(hub.db, found.id, user="test")
    assert job_id is not None
    assert replay.job_progress(hub.db, job_id)["total"] == 3
    replay.start_job(hub.db, job_id, user="test")
    replay.run_job(hub.db, job_id)
    hub.drain()

    # Then the portal holds them again and a second run finds nothing
    again = reconciler(hub).run(COMMUNE, since, until)
    assert again.differences == []
    assert hub.portal.lookup(COMMUNE, codes[4])["TrangThaiHoSo"] in ("2", 2)  # type: ignore[index]
    assert [r.id for r in runs(hub.db, unit_code=COMMUNE)] == [again.id, found.id, found.id - 1]
    assert runs(hub.db)[1].replay_job_id == job_id


def test_a_dossier_the_hub_has_not_read_yet_is_stale_and_one_the_source_no_longer_lists_is_extra(hub: Hub) -> None:
    first, second = dossier_code(COMMUNE, 1), dossier_code(COMMUNE, 2)
    hub.source.put(COMMUNE, record(first), updated_at=T0)
    hub.source.put(COMMUNE, record(second), updated_at=T0)
    request_poll(hub.db, SOURCE, COMMUNE, reason="test")
    hub.drain()
    # the source changes one without the hub polling, and the other leaves the feed's range
    hub.source.put(COMMUNE, record(first, version=2), updated_at=T0 + timedelta(hours=1))
    hub.source.put(COMMUNE, record(second, version=2), updated_at=T0 + timedelta(days=3))

    found = reconciler(hub).run(COMMUNE, T0 - timedelta(days=1), T0 + timedelta(days=1))

    assert [(d.dossier_code, d.kind, d.source_version) for d in found.differences] == [
        (first, "stale", 2),
        (second, "extra", None),
    ]
    # Neither is the portal's fault: a poll, not a replay, catches the hub up.
    assert repair(hub.db, found.id) is None


def test_a_sample_is_stable_and_about_its_size() -> None:
    codes = [dossier_code(COMMUNE, n) for n in range(1, 1001)]
    chosen = [c for c in codes if sampled(c, 0.1)]
    assert 60 <= len(chosen) <= 140
    assert chosen == [c for c in codes if sampled(c, 0.1)]
    assert all(sampled(c, 1.0) for c in codes)


def test_the_pacer_spaces_calls_at_the_rate() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pace = Pacer(10.0, sleep=sleep, clock=lambda: now[0])
    for _ in range(5):
        pace()
        now[0] += 0.03  # each call takes 30 ms
    assert [round(w, 3) for w in waits] == [0.07, 0.07, 0.07, 0.07]
    assert Pacer(None, sleep=sleep)() is None and len(waits) == 4
