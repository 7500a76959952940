"""The attempt writer: rows are written in batches behind the worker, and ``flush`` is how a reader waits for them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from devtools.servers import PrivatePostgres
from foundation.clock import utcnow
from hub import outbox
from hub.attempts import AttemptRecord, AttemptWriter
from hub.store.db import Database
from hub.store.models import Attempt
from migrations import upgrade
from tests.waiting import eventually


class GatedDatabase(Database):
    """The store, but every session waits until the test opens the gate: a database slower than any reader."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gate = threading.Event()

    @contextmanager
    def session(self) -> Iterator[Session]:
        assert self.gate.wait(timeout=10), "the gate was never opened"
        with super().session() as session:
            yield session


def _messages(db: Database, count: int) -> list[int]:
    with db.session() as session:
        rows = [outbox.record(session, kind="poll", payload={}) for _ in range(count)]
        session.flush()
        return [m.id for m in rows]


def _tries(db: Database) -> int:
    with db.session() as session:
        return session.execute(select(func.count()).select_from(Attempt)).scalar_one()


def _record(message_id: int, *, worker: str = "test") -> AttemptRecord:
    return AttemptRecord(message_id=message_id, number=1, started_at=utcnow(), worker=worker, outcome="succeeded")


def test_flush_returns_only_once_every_row_put_before_it_is_written(db: Database) -> None:
    ids = _messages(db, 5)
    gated = GatedDatabase(db.url)
    writer = AttemptWriter(gated, batch=2, interval=30)
    try:
        for message_id in ids:
            writer.put(_record(message_id))

        # While the database holds every write back, flush does not pretend the rows are there
        assert writer.flush(timeout=0.05) is False
        assert _tries(db) == 0

        # and once it lets them through, flush returns with all of them written, batch after batch
        gated.gate.set()
        assert writer.flush(timeout=10) is True
        assert _tries(db) == 5
    finally:
        gated.gate.set()
        writer.close()
        gated.dispose()


def test_flush_with_nothing_put_returns_at_once(db: Database) -> None:
    writer = AttemptWriter(db, interval=30)
    try:
        assert writer.flush(timeout=0) is True
    finally:
        writer.close()


def test_a_row_the_database_refuses_is_logged_as_lost_and_flush_still_returns(db: Database) -> None:
    [message_id] = _messages(db, 1)
    writer = AttemptWriter(db, interval=30)
    try:
        with capture_logs() as logs:
            writer.put(_record(message_id))
            writer.put(_record(999_999))  # no such message: the foreign key refuses it, with or without payloads
            writer.put(_record(message_id))
            assert writer.flush(timeout=10) is True
        assert _tries(db) == 2  # the good rows of the failed batch are written one by one
        assert [e["message_id"] for e in logs if e["event"] == "attempt_row_lost"] == [999_999]
    finally:
        writer.close()


def test_a_refused_row_does_not_put_its_payload_in_the_error_text(db: Database) -> None:
    # The error of a failed insert reaches log lines and tracebacks: the row's values (payloads) must not be in it
    row = _record(999_999).row(65536) | {"request": {"ChuHoSo": "Đặng Thị Quỳnh Zara"}}
    with pytest.raises(IntegrityError) as caught, db.session() as session:
        session.execute(insert(Attempt), [row])
    assert "Zara" not in str(caught.value)


def test_rows_written_while_the_database_restarts_are_kept_and_written_when_it_is_back(
    private_postgres: PrivatePostgres,
) -> None:
    # Given a worker's attempt writer on a PostgreSQL server, which has written a first row
    upgrade(private_postgres.url)
    db = Database(private_postgres.url)
    first, second = _messages(db, 2)
    writer = AttemptWriter(db, interval=0.05)
    try:
        writer.put(_record(first))
        assert writer.flush(timeout=10) is True

        # When the server restarts while a try's row is handed over, and the writer meets the server away
        private_postgres.shut_down()
        with capture_logs() as captured:
            writer.put(_record(second))
            eventually(
                lambda: any(e["log_level"] in ("warning", "error") for e in captured),
                timeout=10,
                what="the writer met the database away",
            )
            private_postgres.start()

            # Then the row is not lost: it is written once the server is back
            assert writer.flush(timeout=30) is True
        assert [e["event"] for e in captured if e["event"] == "attempt_row_lost"] == []
        with db.session() as session:
            assert sorted(session.scalars(select(Attempt.message_id))) == [first, second]
    finally:
        writer.close()
        db.dispose()
