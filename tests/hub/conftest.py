"""The hub under test: the embedded broker with worker threads, a migrated SQLite store, fake connectors."""

from __future__ import annotations

import logging
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from queue import Queue
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout
from sqlalchemy import func, select
from structlog.testing import capture_logs

from foundation.settings import Settings
from foundation.topology import load
from hub import context, procedures
from hub.broker import QUEUES, get_broker
from hub.context import ConnectorPool, HubContext
from hub.middleware.attempt_log import AttemptLog
from hub.store.db import Database
from hub.store.models import Message, MessageState
from hub.worker import embedded_workers
from systems.fake.connector import FakeConnector
from tests.conftest import TOPOLOGIES
from tests.hub.factories import T0
from tests.waiting import eventually

QUANG_NAM = TOPOLOGIES / "quang-nam-2023.yaml"
IN_FLIGHT = [s.value for s in MessageState if s.in_flight]


def fresh_queues() -> None:
    """Start the process's in-process broker on empty queues, before a hub's workers start.

    Workers that stop while holding messages (prefetched, or waiting out a retry's delay) cannot hand them back to
    the stub broker, whose count of unfinished work then never reaches zero; a hub that waits for its broker to be
    idle must not inherit that count from an earlier test.
    """
    broker = get_broker()
    if not isinstance(broker, StubBroker):
        broker.flush_all()  # a durable broker still holds the retries of the previous test, for another database
        return
    for name in list(broker.queues):
        broker.queues[name] = Queue()


@contextmanager
def workers(ctx: HubContext, threads: int = 4) -> Iterator[None]:
    """The hub's embedded workers over ``ctx``, started on fresh queues, the process's context cleared after."""
    fresh_queues()
    try:
        with embedded_workers(ctx, threads=threads):
            yield
    finally:
        context.install(None)


def integration_log(broker: dramatiq.Broker) -> AttemptLog:
    """The broker's integration-log middleware, whose attempt writer tests flush."""
    return next(m for m in broker.middleware if isinstance(m, AttemptLog))


def in_flight_count(db: Database) -> int:
    """How many messages the integration log shows as queued, running or retrying."""
    with db.session() as session:
        return int(
            session.execute(select(func.count()).select_from(Message).where(Message.state.in_(IN_FLIGHT))).scalar_one()
        )


@dataclass
class Hub:
    """A running embedded hub and its fakes."""

    ctx: HubContext
    source: FakeConnector
    portal: FakeConnector

    @property
    def db(self) -> Database:
        return self.ctx.db

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until the broker holds no message (retries waiting on their delay included) and every attempt row
        of the work done is written."""
        broker = get_broker()
        deadline = time.monotonic() + timeout
        if not isinstance(broker, StubBroker):
            self._settle_by_the_log(deadline, timeout)
            return
        try:
            # a queue joined empty may be refilled by work on another queue (a poll queues syncs): join them all
            # again until one pass finds every queue, and its delay queue, empty
            while True:
                for queue in QUEUES:
                    left_ms = max(1, int((deadline - time.monotonic()) * 1000))
                    broker.join(queue, timeout=left_ms, fail_fast=False)
                if not any(q.unfinished_tasks for q in broker.queues.values()):
                    break
        except QueueJoinTimeout as exc:
            raise AssertionError(f"the broker still holds messages after {timeout}s: {self.in_flight()}") from exc
        assert integration_log(broker).flush(), "the attempt writer did not write its rows in time"

    def drain(self, timeout: float = 20.0) -> None:
        """Wait until the pipeline is idle, then check that the integration log shows nothing in flight."""
        self.settle(timeout)
        assert self.in_flight() == [], "messages in flight that the broker does not hold (lost by the hub?)"

    def in_flight(self) -> list[tuple[int, str, str]]:
        """(id, kind, state) of every message the integration log shows as queued or retrying."""
        with self.db.session() as session:
            rows = session.execute(select(Message.id, Message.kind, Message.state).where(Message.state.in_(IN_FLIGHT)))
            return [(i, kind, state) for i, kind, state in rows]

    def _settle_by_the_log(self, deadline: float, timeout: float) -> None:
        """An external broker (RabbitMQ) cannot be joined from here: poll the integration log until nothing is in
        flight and every try's attempt row is written."""
        eventually(
            lambda: in_flight_count(self.db) == 0 and not self._tries_unwritten(),
            timeout=max(0.0, deadline - time.monotonic()),
            what=lambda: f"{in_flight_count(self.db)} messages still in flight",
            every=0.02,
        )

    def _tries_unwritten(self) -> int:
        """Attempt rows the batching writer holds but has not written yet."""
        return sum(m.pending_attempts for m in get_broker().middleware if isinstance(m, AttemptLog))

    def messages(self, **where: object) -> list[Message]:
        with self.db.session() as session:
            query = select(Message).order_by(Message.id)
            for key, value in where.items():
                query = query.where(getattr(Message, key) == value)
            return list(session.scalars(query))


@contextmanager
def running_hub(
    db: Database,
    *,
    threads: int = 4,
    topology_file: Path = QUANG_NAM,
    source_over: Callable[[FakeConnector], Any] | None = None,
    source: FakeConnector | None = None,
    portal: FakeConnector | None = None,
    portal_over: Any = None,
    **settings_: Any,
) -> Iterator[Hub]:
    """The embedded hub over ``db`` with fake connectors for the one-stop-shop and the portal, workers running;
    other systems of ``topology_file`` get the connectors their kinds build, ``source_over`` wraps the fake
    source (a real connector for some calls), ``portal_over`` stands in for the fake portal (a real connector to
    the portal simulator), and ``settings_`` override the hub's settings.

    The broker is the one the environment configures: in-process by default, RabbitMQ when
    ``tests/hub/test_rabbitmq.py`` runs these tests again with ``DVC_HUB_BROKER_URL=amqp://...``.
    """
    settings = Settings(
        _env_file=None,
        database_url=db.url,
        **{
            "retry_min_backoff_ms": 20,
            "retry_max_backoff_ms": 200,
            "retry_max_attempts": 5,
            "reconcile_after_seconds": 600,
            **settings_,
        },
    )
    topology = load(topology_file)
    source = source or FakeConnector("motcua-quangnam")
    portal = portal or FakeConnector("dvcqg")
    procedures.set_mapping(db, "NT-HT-001", "1.001193", field_code="HT", field_name="Hộ tịch", user="test")
    ctx = HubContext(
        settings=settings,
        db=db,
        topology=topology,
        connectors=ConnectorPool(
            topology,
            settings,
            prebuilt={
                "motcua-quangnam": source_over(source) if source_over else source,
                "dvcqg": portal_over if portal_over is not None else portal,
            },
        ),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: datetime(2024, 3, 5, 9, 0, tzinfo=T0.tzinfo),
    )
    with workers(ctx, threads):
        yield Hub(ctx, source, portal)


# The personal values of tests.hub.factories.record's applicant, in the forms a log line could carry them.
PERSONAL_VALUES = (
    "Nguyễn Văn An",
    unicodedata.normalize("NFD", "Nguyễn Văn An"),
    "049088001234",
    "an.nguyen@example.vn",
    "0905123456",
    "Tam Quang",
)


def personal_values_in(lines: list[str], values: tuple[str, ...] = PERSONAL_VALUES) -> list[str]:
    """The log lines that carry any of ``values``."""
    return [line for line in lines if any(value in line for value in values)]


@contextmanager
def scanned_logs(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every structlog event and standard-library record logged inside the block, rendered as text (exception
    text and traceback included), at DEBUG."""
    lines: list[str] = []
    with caplog.at_level(logging.DEBUG), capture_logs() as events:
        yield lines
    lines += [repr(event) for event in events]
    lines += [caplog_text(record) for record in caplog.records]


def caplog_text(record: logging.LogRecord) -> str:
    text = f"{record.name} {record.getMessage()}"
    if record.exc_info:
        text += "\n" + "".join(traceback.format_exception(*record.exc_info))
    return text


@pytest.fixture
def hub(db: Database, caplog: pytest.LogCaptureFixture) -> Iterator[Hub]:
    # Every pipeline test doubles as a check that no personal value of its dossiers reaches a log line.
    with scanned_logs(caplog) as lines, running_hub(db) as running:
        yield running
    leaked = personal_values_in(lines)
    assert not leaked, f"personal values in {len(leaked)} log lines, e.g. {leaked[0][:300]}"
