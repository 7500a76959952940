"""Loaded into each benchmarked worker process (a Dramatiq module): counts database statements, transactions and
pool pings with SQLAlchemy events and writes them to ``$BENCH_SQLCOUNT_DIR/<pid>.json`` twice a second.

Round trips are counted as the driver makes them: one per statement, two per transaction (psycopg sends ``BEGIN``
before the first statement and ``COMMIT`` at the end) and one per pool pre-ping.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine.default import DefaultDialect

OUT = os.environ.get("BENCH_SQLCOUNT_DIR")
counts = {"statements": 0, "transactions": 0, "pings": 0}
_lock = threading.Lock()


def _bump(key: str) -> None:
    with _lock:
        counts[key] += 1


def _statement(*_args: Any, **_kwargs: Any) -> None:
    _bump("statements")


def _transaction(*_args: Any) -> None:
    _bump("transactions")


_ping = DefaultDialect._do_ping_w_event


def _counted_ping(self: DefaultDialect, dbapi_connection: Any) -> bool:
    """The pool's pre-ping (SQLAlchemy has no event for it, so the dialect's ping is wrapped)."""
    _bump("pings")
    return bool(_ping(self, dbapi_connection))


def _dump(path: Path) -> None:
    while True:
        with _lock:
            text = json.dumps(counts)
        path.write_text(text)
        threading.Event().wait(0.5)


if OUT:
    event.listen(Engine, "before_cursor_execute", _statement)
    event.listen(Engine, "commit", _transaction)
    event.listen(Engine, "rollback", _transaction)
    DefaultDialect._do_ping_w_event = _counted_ping  # type: ignore[method-assign]
    threading.Thread(target=_dump, args=(Path(OUT) / f"{os.getpid()}.json",), daemon=True).start()
