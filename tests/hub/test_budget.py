"""The cost of a dossier, guarded by counts that noise cannot move: 100 dossiers from the one-stop-shop simulator to
the portal simulator on PostgreSQL, with the database statements and transactions counted by SQLAlchemy events and
the HTTP requests by the simulators' own tap."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from foundation.settings import Settings
from foundation.topology import load
from hub import procedures
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from hub.store.models import Delivery, MessageState
from hub.sync import request_poll
from migrations import upgrade
from simulators import portal as simulators_portal
from simulators import soap as simulators_soap
from simulators.server import Simulators
from tests.conftest import TOPOLOGIES
from tests.hub.conftest import in_flight_count, workers
from tests.hub.wire import Tap
from tests.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DOSSIERS = 100
# Per dossier, on this small workload (100 dossiers, so batches of a few; every dossier to the portal, liên thông
# decisions back to the communes; the drain loop's own reads count too, about 1.2 statements and 0.6 transactions):
# a ceiling a little above what this code was measured at (1 Dec 2026: 16.0 statements, 5.1 transactions, 2.36-2.54
# HTTP calls; main before the batch's opening transaction and the attempt writer's batching: 21.4, 9.7, 2.6), so
# that a change that costs more fails here. The goal of issue #15 (<= 12 round trips, i.e. statements + 2 per
# transaction, <= 3 transactions, <= 2 HTTP calls, on the backlog benchmark) is not reached yet: see README,
# Benchmarks. HTTP rose by one look-up per dossier on 8 Dec 2026 (measured 3.51): the first push of a dossier the
# hub has no delivery record of reads the portal's copy first, so that a forgotten dossier never regresses it (#22).
BUDGET = {"statements": 18.0, "transactions": 6.0, "http": 3.7}
IN_FLIGHT = [s.value for s in MessageState if s.in_flight]


class Counter:
    """Statements and transactions an engine runs, counted by SQLAlchemy events."""

    def __init__(self) -> None:
        self.statements = self.transactions = 0
        self._lock = threading.Lock()

    def statement(self, *_args: Any, **_kwargs: Any) -> None:
        with self._lock:
            self.statements += 1

    def transaction(self, *_args: Any) -> None:
        with self._lock:
            self.transactions += 1


@pytest.fixture
def _creds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for ref in ("MOTCUA_QUANGNAM", "DVCQG"):
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_USERNAME", "hub")
        monkeypatch.setenv(f"DVC_HUB_CRED_{ref}_PASSWORD", "hub-secret")
    yield


@pytest.mark.usefixtures("_creds")
def test_a_dossier_costs_no_more_than_its_budget_of_statements_and_http_calls(
    start_simulators: type[Simulators], postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the simulators with a tap on their wire, and a hub on PostgreSQL whose engine is counted
    tap = Tap()
    monkeypatch.setattr(simulators_soap, "create_app", tap.wrap(simulators_soap.create_app))
    monkeypatch.setattr(simulators_portal, "create_app", tap.wrap(simulators_portal.create_app))
    upgrade(postgres_url)
    db = Database(postgres_url)
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023.yaml"), seed=3, dossiers=DOSSIERS) as sims:
        topology = load(sims.topology_file(tmp_path / "topology.yaml"))
        mapping = sims.catalogue.mapping()
        procedures.import_csv(db, "local_code,national_code\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
        settings = Settings(_env_file=None, database_url=postgres_url)
        ctx = HubContext(settings, db, topology, ConnectorPool(topology, settings), procedures.DbProcedureLookup(db))
        at_source = len(sims.source_state())
        counter = Counter()
        event.listen(db.engine, "before_cursor_execute", counter.statement)
        event.listen(db.engine, "commit", counter.transaction)
        event.listen(db.engine, "rollback", counter.transaction)
        requests_before = len(tap.bodies)

        # When every unit is polled and the pipeline drains
        try:
            with workers(ctx):
                for unit in topology.active_units():
                    if unit.system:
                        request_poll(db, str(unit.system), unit.code, reason="budget")
                _drain(db, at_source)
        finally:
            ctx.connectors.close()
        event.remove(db.engine, "before_cursor_execute", counter.statement)
        event.remove(db.engine, "commit", counter.transaction)
        event.remove(db.engine, "rollback", counter.transaction)

        # Then each dossier cost no more than its budget
        spent = {
            "statements": counter.statements / at_source,
            "transactions": counter.transactions / at_source,
            "http": (len(tap.bodies) - requests_before) / at_source,
        }
        print(f"per dossier over {at_source} dossiers: {spent}")
        over = {key: round(value, 2) for key, value in spent.items() if value > BUDGET[key]}
        assert over == {}, f"over budget per dossier: {over} (budget {BUDGET})"
        assert sims.portal_stats()["duplicates"] == []
    db.dispose()


def _drain(db: Database, at_source: int, timeout: float = 240) -> None:
    def delivered() -> int:
        with db.session() as session:
            return int(
                session.execute(
                    select(func.count(func.distinct(Delivery.dossier_code))).where(Delivery.target == "dvcqg")
                ).scalar_one()
            )

    eventually(
        lambda: delivered() >= at_source and in_flight_count(db) == 0,
        timeout=timeout,
        what=lambda: f"{delivered()}/{at_source} at the portal, {in_flight_count(db)} in flight",
        every=0.1,
    )
