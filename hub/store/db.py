"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production).

The PostgreSQL pool does not ping a connection before each transaction (a round trip per transaction for a rare
event): a connection the server dropped (a restart, a failover) fails its statement instead, SQLAlchemy discards the
pool's stale connections, and :meth:`Database.session` raises :class:`DatabaseUnavailable`, a retryable error, so the
message is simply tried again on a fresh connection. While the server is down or restarting, opening a connection
fails too (refused, "the database system is shutting down" or "starting up"): that is the same retryable error,
never an unexpected one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from foundation.errors import RetryableError


class DatabaseUnavailable(RetryableError):
    """Raised when the database connection was lost mid-transaction; the work is retried on a fresh connection."""

    error_class = "database_unavailable"


# SQLSTATEs of a server that is going away or not there yet: class 08 (connection exception), admin shutdown, crash
# shutdown, cannot connect now (starting up or shutting down).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def unavailable(exc: DBAPIError) -> bool:
    """Whether a driver error means the database could not be reached (retry later), not that the statement is wrong.

    A dropped connection is flagged by SQLAlchemy itself; a connection that could not even be opened is a
    PostgreSQL ``OperationalError`` raised by the client (no SQLSTATE: refused, reset, timed out) or the server's
    refusal while it shuts down or starts up. SQLite's errors (a locked database) are not transport failures.
    """
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    state = getattr(exc.orig, "sqlstate", "not-postgresql")
    return state is None or str(state).startswith(_UNAVAILABLE_STATES)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine tuned for the hub: WAL and a busy timeout on SQLite, a pool without pre-ping on PostgreSQL.

    Statement parameters are kept out of error messages: they are payloads with personal data, and an error's text
    reaches log lines and tracebacks.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_pre_ping", False)
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """One engine and its session factory; ``with db.session() as s:`` commits on success, rolls back on error."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            if not unavailable(exc):
                raise
            lost = type(exc.orig).__name__
            raise DatabaseUnavailable(
                f"Mất kết nối cơ sở dữ liệu, sẽ thử lại (database connection lost: {lost})"
            ) from exc

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()
