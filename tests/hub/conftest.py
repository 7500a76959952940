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
from typing import Any

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from connectors.fake import FakeConnector
from foundation.settings import Settings
from foundation.topology import load
from hub import context, procedures
from hub.context import ConnectorPool, HubContext
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
            if busy == 0:
                time.sleep(0.05)  # let buffered attempt rows reach the database
                return
            time.sleep(0.02)
        raise AssertionError(f"{busy} messages still in flight after {timeout}s")

    def messages(self, **where: object) -> list[Message]:
        with self.db.session() as session:
            query = select(Message).order_by(Message.id)
            for key, value in where.items():
                query = query.where(getattr(Message, key) == value)
            return list(session.scalars(query))


@contextmanager
def running_hub(
    db: Database, *, threads: int = 4, source_over: Callable[[FakeConnector], Any] | None = None
) -> Iterator[Hub]:
    """The embedded hub over ``db`` with fake connectors for the one-stop-shop and the portal, workers running;
    ``source_over`` wraps the fake source (a real connector for some calls)."""
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
        connectors=ConnectorPool(
            topology,
            settings,
            prebuilt={"motcua-quangnam": source_over(source) if source_over else source, "dvcqg": portal},
        ),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: datetime(2024, 3, 5, 9, 0, tzinfo=T0.tzinfo),
    )
    try:
        with embedded_workers(ctx, threads=threads):
            yield Hub(ctx, source, portal)
    finally:
        context.install(None)


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
