"""The hub under test: the embedded broker with worker threads, a migrated SQLite store, fake connectors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import func, select

from connectors.fake import FakeConnector
from foundation.settings import Settings
from foundation.topology import load
from hub import context, procedures
from hub.broker import get_broker
from hub.context import ConnectorPool, HubContext
from hub.middleware import IntegrationLog
from hub.store.db import Database
from hub.store.models import Message, MessageState
from tests.conftest import TOPOLOGIES
from tests.hub.factories import T0

IN_FLIGHT = [s.value for s in MessageState if s.in_flight]


@dataclass
class Hub:
    """A running embedded hub and its fakes."""

    ctx: HubContext
    source: FakeConnector
    portal: FakeConnector

    @property
    def db(self) -> Database:
        return self.ctx.db

    def drain(self, timeout: float = 20.0) -> None:
        """Wait until the integration log shows nothing in flight (retries included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.db.session() as session:
                busy = session.execute(
                    select(func.count()).select_from(Message).where(Message.state.in_(IN_FLIGHT))
                ).scalar_one()
            if busy == 0 and not self._tries_unwritten():
                return
            time.sleep(0.02)
        raise AssertionError(f"{busy} messages still in flight after {timeout}s")

    def _tries_unwritten(self) -> int:
        """Attempt rows the batching writer holds but has not written yet."""
        return sum(m.pending_attempts for m in get_broker().middleware if isinstance(m, IntegrationLog))

    def messages(self, **where: object) -> list[Message]:
        with self.db.session() as session:
            query = select(Message).order_by(Message.id)
            for key, value in where.items():
                query = query.where(getattr(Message, key) == value)
            return list(session.scalars(query))


@contextmanager
def running_hub(db: Database, *, threads: int = 4) -> Iterator[Hub]:
    """The embedded hub over ``db`` with fake connectors for the one-stop-shop and the portal, workers running.

    The broker is the one the environment configures: in-process by default, RabbitMQ when
    ``tests/hub/test_rabbitmq.py`` runs these tests again with ``DVC_HUB_BROKER_URL=amqp://...``.
    """
    from hub.worker import embedded_workers

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=db.url,
        retry_min_backoff_ms=20,
        retry_max_backoff_ms=200,
        retry_max_attempts=5,
        reconcile_after_seconds=600,
    )
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    source = FakeConnector("motcua-quangnam")
    portal = FakeConnector("dvcqg")
    procedures.set_mapping(db, "NT-HT-001", "1.001193", field_code="HT", field_name="Hộ tịch", user="test")
    ctx = HubContext(
        settings=settings,
        db=db,
        topology=topology,
        connectors=ConnectorPool(topology, settings, prebuilt={"motcua-quangnam": source, "dvcqg": portal}),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: datetime(2024, 3, 5, 9, 0, tzinfo=T0.tzinfo),
    )
    get_broker().flush_all()  # a durable broker still holds the retries of the previous test, for another database
    try:
        with embedded_workers(ctx, threads=threads):
            yield Hub(ctx, source, portal)
    finally:
        context.install(None)


@pytest.fixture
def hub(db: Database) -> Iterator[Hub]:
    with running_hub(db) as running:
        yield running
