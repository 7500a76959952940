"""The daily jobs are the hub's actors (#26): the scheduler only records and enqueues them, and every remote call
they make is in the integration log, in the attempt of the message that made it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
import requests
import yaml
from sqlalchemy import select

from foundation.settings import Settings
from foundation.topology import System, load
from hub import attempts, context, outbox, replay
from hub.context import HubContext
from hub.store.db import Database
from hub.store.models import Attempt, Message, MessageState
from hub.worker import embedded_workers
from migrations import upgrade
from schedules.claims import DatabaseClaims
from schedules.plan import JobKind, plan
from schedules.runner import HubRunner
from simulators.server import Simulators
from systems.registry import kind_of
from tests.conftest import TOPOLOGIES
from tests.hub.conftest import fresh_queues, in_flight_count
from tests.waiting import eventually

pytestmark = pytest.mark.slow

DAILY = ("daily_catalogue", "daily_reconcile", "daily_late_scan", "daily_retention")


class RecordingTransport:
    """Every HTTP request this process sends, with the message whose try sent it (None: no try was running)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int | None]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = requests.adapters.HTTPAdapter.send

        def send(adapter: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
            record = attempts.current()
            self.sent.append((str(request.url), record.message_id if record is not None else None))
            return real(adapter, request, *args, **kwargs)

        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for ref in ("MOTCUA_QUANGNAM", "DVCQG"):
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", "hub-secret")


@pytest.fixture
def province(start_simulators: type[Simulators]) -> Iterator[Simulators]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=7, dossiers=40) as sims:
        yield sims


def _hub(sims: Simulators, tmp_path: Path) -> HubContext:
    """A hub on an SQLite store over the simulated province; every sampled dossier is looked up at the portal."""
    topology_file = sims.topology_file(tmp_path / "topology.yaml")
    spec = yaml.safe_load(topology_file.read_text(encoding="utf-8"))
    for system in spec["systems"]:
        if system["name"] == "dvcqg":
            system.setdefault("options", {}).update({"reconcile_sample": 1.0, "reconcile_rate": 1000})
    topology_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        topology_file=topology_file,
        retry_min_backoff_ms=20,
        retry_max_backoff_ms=200,
        reconcile_after_seconds=600,
    )
    upgrade(settings.database_url)
    return HubContext.from_settings(settings)


def _is_source(system: System) -> bool:
    return kind_of(system).is_source


def _daily(db: Database) -> list[Message]:
    with db.session() as session:
        return list(session.scalars(select(Message).where(Message.kind.in_(DAILY)).order_by(Message.id)))


def _wire(db: Database, message_id: int) -> list[str]:
    """The operations of every exchange the attempts of ``message_id`` recorded."""
    with db.session() as session:
        requests_ = session.scalars(select(Attempt.request).where(Attempt.message_id == message_id))
        return [w["operation"] for r in requests_ if r for w in r.get("wire", [])]


def test_the_scheduler_only_enqueues_and_the_workers_calls_are_in_the_integration_log(
    province: Simulators, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a hub over the simulated province, and a transport that records every HTTP request this process sends
    ctx = _hub(province, tmp_path)
    transport = RecordingTransport()
    transport.install(monkeypatch)
    runner = HubRunner(ctx.db, DatabaseClaims(ctx.db), ctx.topology, is_source=_is_source)
    tick = province.now() + timedelta(days=1)
    specs = plan(ctx.topology, tick.date(), is_source=_is_source)
    daily = [s for s in specs if s.kind is not JobKind.POLL and s.kind is not JobKind.TICK_PRUNE]

    # When the scheduler's runner fires every daily job once, no worker running
    fresh_queues()
    for spec in daily:
        runner(spec, tick)

    # Then the scheduler sent nothing over HTTP: it recorded one queued message per job (one per unit to reconcile)
    assert transport.sent == []
    asked = _daily(ctx.db)
    sources = [u for u in ctx.topology.active_units(tick.date() - timedelta(days=1)) if u.system == "motcua-quangnam"]
    assert sorted(m.kind for m in asked) == sorted(
        ["daily_catalogue", "daily_catalogue", "daily_late_scan", "daily_retention"]
        + ["daily_reconcile"] * len(sources)
    )
    assert {m.state for m in asked} == {MessageState.QUEUED.value}

    # When the workers run them (started on the queues as the scheduler left them)
    try:
        with embedded_workers(ctx):
            eventually(
                lambda: in_flight_count(ctx.db) == 0, timeout=120, what=lambda: f"{in_flight_count(ctx.db)} left"
            )
    finally:
        context.install(None)
    ctx.close()

    # Then each succeeded, every HTTP request was sent inside a daily message's try, and that try's attempt row
    # holds the exchange: the portal's catalogues, and each unit's feed and the portal's look-ups
    done = _daily(ctx.db)
    assert {m.state for m in done} == {MessageState.SUCCEEDED.value}, [(m.kind, m.error_message) for m in done]
    ids = {m.id for m in done}
    assert transport.sent and all(message_id in ids for _, message_id in transport.sent), transport.sent
    by_kind: dict[str, list[str]] = {}
    for m in done:
        by_kind.setdefault(m.kind, []).extend(_wire(ctx.db, m.id))
    assert {"LayDanhSachTTHC", "LayDanhMucCoQuan"} <= set(by_kind["daily_catalogue"]), by_kind["daily_catalogue"]
    assert "TraCuuHoSo" in by_kind["daily_reconcile"], by_kind["daily_reconcile"]
    assert by_kind["daily_late_scan"] == [] and by_kind["daily_retention"] == []  # the database's work only
    # one exchange in the log per request, but for the service description zeep reads once when it builds the client
    calls = [url for url, _ in transport.sent if not url.endswith(("?wsdl", "?xsd"))]
    assert len(calls) == sum(len(ops) for ops in by_kind.values())


@pytest.mark.parametrize("mode", ["original", "fresh"])
def test_a_daily_job_is_replayed_as_itself(db: Database, mode: Literal["original", "fresh"]) -> None:
    # Given a parked catalogue refresh
    with db.session() as session:
        parked = outbox.record(session, kind="daily_catalogue", payload={"system": "dvcqg", "catalogue": "agencies"})
        parked.state = MessageState.PARKED.value
    # When an operator replays it, fresh or not
    again = replay.replay_message(db, parked.id, mode=mode, user="test")
    # Then the replay is the same job (a fresh replay has no dossier to fetch again)
    with db.session() as session:
        message = session.get(Message, again)
        assert message is not None
        assert (message.kind, message.actor, message.payload) == (
            "daily_catalogue",
            "refresh_catalogue",
            {"system": "dvcqg", "catalogue": "agencies"},
        )
