"""The schema: the same Alembic migrations on SQLite and PostgreSQL, and the store's timezone discipline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from devtools.servers import PrivatePostgres
from hub.policy import RetryPolicy
from hub.store import partitions
from hub.store.db import Database, DatabaseUnavailable, make_engine
from hub.store.models import Base, Delivery, Message, MessageState
from migrations import downgrade, include_name, upgrade


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if not partitions.is_partition(name)}
    finally:
        engine.dispose()


def test_migrations_round_trip(any_db_url: str) -> None:
    upgrade(any_db_url)
    assert _tables(any_db_url) == set(Base.metadata.tables)
    downgrade(any_db_url)
    assert _tables(any_db_url) == set()
    upgrade(any_db_url)
    assert _tables(any_db_url) == set(Base.metadata.tables)


def test_migrations_match_the_models(any_db_url: str) -> None:
    """Autogenerate finds nothing to do: the migrations create exactly what the models declare."""
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_datetimes_come_back_aware_and_naive_ones_are_refused(any_db_url: str) -> None:
    upgrade(any_db_url)
    database = Database(any_db_url)
    created = datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    with database.session() as session:
        session.add(Message(kind="sync", actor="sync_dossier", created_at=created, state=MessageState.QUEUED))
    with database.session() as session:
        stored = session.scalars(select(Message)).one()
        assert stored.created_at == created
        assert stored.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"), database.session() as session:
        session.add(Message(kind="sync", actor="x", created_at=datetime(2024, 3, 1)))  # noqa: DTZ001
        session.flush()
    database.dispose()


def test_a_time_at_the_calendars_edge_is_stored_never_overflows(any_db_url: str) -> None:
    # .NET's DateTime.MinValue in Vietnam time is a day before year 1 in UTC: astimezone raised OverflowError.
    upgrade(any_db_url)
    database = Database(any_db_url)
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=7)))
    with database.session() as session:
        session.add(Message(kind="sync", actor="sync_dossier", created_at=edge, state=MessageState.QUEUED))
    with database.session() as session:
        assert session.scalars(select(Message)).one().created_at.year == 1
    database.dispose()


def test_a_dossier_version_is_delivered_to_a_target_once(any_db_url: str) -> None:
    upgrade(any_db_url)
    database = Database(any_db_url)
    with database.session() as session:
        session.add(Delivery(dossier_code="000.00.17.H47-231027-0001", dossier_version=3, target="dvcqg"))
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Delivery(dossier_code="000.00.17.H47-231027-0001", dossier_version=3, target="dvcqg"))
    with database.session() as session:
        session.add(Delivery(dossier_code="000.00.17.H47-231027-0001", dossier_version=4, target="dvcqg"))
    database.dispose()


def test_sqlite_engine_uses_wal(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_dropped_fails_once_as_retryable_then_works(postgres_url: str) -> None:
    # Given a pool without pre-ping whose connections the server has just dropped (a restart, a failover)
    upgrade(postgres_url)
    db = Database(postgres_url)
    with db.session() as session:
        session.execute(select(Message.id)).all()
    name = postgres_url.rsplit("/", 1)[1]
    admin = Database(postgres_url.rsplit("/", 1)[0] + "/postgres")
    with admin.session() as session:
        session.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
    admin.dispose()

    # When the hub uses the database again, the first transaction fails as retryable, and the retry works
    with pytest.raises(DatabaseUnavailable), db.session() as session:
        session.execute(select(Message.id)).all()
    with db.session() as session:
        assert session.execute(select(Message.id)).all() == []
    db.dispose()


def test_a_restarting_database_fails_work_as_retryable_never_unexpected(private_postgres: PrivatePostgres) -> None:
    # Given the hub's store on a PostgreSQL server that is in use
    upgrade(private_postgres.url)
    db = Database(private_postgres.url)
    with db.session() as session:
        session.execute(select(Message.id)).all()

    # When the server is restarting (shut down, not back yet), every transaction fails as DatabaseUnavailable, which
    # the retry policy retries with backoff (an unexpected error would be parked after three tries)
    private_postgres.shut_down()
    failures = []
    for _ in range(3):  # the stale pooled connection first, then each new connection the server refuses
        with pytest.raises(DatabaseUnavailable) as failed, db.session() as session:
            session.execute(select(Message.id)).all()
        failures.append(failed.value)
    policy = RetryPolicy(max_attempts=10, max_age=timedelta(days=1), min_backoff_ms=1, max_backoff_ms=2)
    for exc in failures:  # the third try: an unexpected error would be parked now
        decision = policy.decide(exc, attempt=3, age=timedelta(minutes=1))
        assert decision.state is MessageState.RETRYING and not decision.unexpected

    # and once it is back, the same Database works again
    private_postgres.start()
    with db.session() as session:
        assert session.execute(select(Message.id)).all() == []
    db.dispose()
