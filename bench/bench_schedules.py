"""An incremental poll costs what its changes cost, not what the source and the hub have stored.

The source is a one-stop-shop whose change feed is an indexed query (SQLite, index on (unit, updated_at, code),
keyset continuation tokens). The hub's poll path runs as in production: ``hub.sync.request_poll`` records the poll,
``hub.sync.run_poll`` reads the feed from the watermark minus the overlap window, records one sync message per
change and moves the watermark. Each round, 100 dossiers change at the source; the poll is timed with 10 thousand
and then 1 million dossiers stored at the source and as earlier sync messages in the hub's integration log.

Run ``python -m bench.bench_schedules``; the figures are printed and written to ``bench/results/schedules.txt``.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from sqlalchemy import event

from connectors.base import ChangePage, ChangeRef, Health, RawRecord
from foundation.settings import Settings
from foundation.topology import Topology, TopologyFile
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from hub.store.models import Message
from hub.sync import request_poll, run_poll
from migrations import upgrade

RESULTS = Path(__file__).resolve().parent / "results" / "schedules.txt"
SYSTEM = "motcua-bench"
UNIT = "20965"
AGENCY = "000.01.17.H47"
CHANGES = 100
ROUNDS = 7
SIZES = (10_000, 1_000_000)
PAGE = 50
T0 = datetime(2024, 1, 1, tzinfo=UTC)
MAX_RATIO = 2.0  # "about the same": the 1M poll must cost less than twice the 10k poll


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")  # fixed width: sorts as text


class SqliteSource:
    """A one-stop-shop backed by SQLite whose change feed is a keyset query on an (unit, updated_at, code) index."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS dossiers (unit TEXT, code TEXT, updated_at TEXT, version INTEGER, "
            "record TEXT, PRIMARY KEY (unit, code))"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS ix_feed ON dossiers (unit, updated_at, code)")

    FEED = (
        "SELECT code, updated_at, version FROM dossiers WHERE unit = ? AND (updated_at, code) > (?, ?) "
        "ORDER BY updated_at, code LIMIT ?"
    )

    def load(self, rows: Iterator[tuple[str, str, str, int, str]]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT OR REPLACE INTO dossiers VALUES (?, ?, ?, ?, ?)", rows)
        self.conn.execute("COMMIT")

    def plan(self) -> str:
        rows = self.conn.execute("EXPLAIN QUERY PLAN " + self.FEED, (UNIT, "", "", PAGE)).fetchall()
        return "; ".join(str(r[-1]) for r in rows)

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage:
        after, code = token.split("|", 1) if token else (_iso(since - timedelta(microseconds=1)), "\uffff")
        rows = self.conn.execute(self.FEED, (unit_code, after, code, PAGE)).fetchall()
        items = [ChangeRef(c, datetime.fromisoformat(u).replace(tzinfo=UTC), v) for c, u, v in rows]
        next_token = f"{rows[-1][1]}|{rows[-1][0]}" if len(rows) == PAGE else None
        return ChangePage(items=items, next_token=next_token)

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> RawRecord:
        raise NotImplementedError("the benchmark times polls, not syncs")

    def health(self) -> Health:
        return Health(ok=True, latency_ms=0.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.conn.close()


def _code(n: int) -> str:
    day = T0 + timedelta(days=n // 9999)
    return f"{AGENCY}-{day:%y%m%d}-{n % 9999 + 1:04d}"


def _topology() -> Topology:
    return Topology(
        TopologyFile.model_validate(
            {
                "name": "bench",
                "portal": "dvcqg",
                "systems": [
                    {"name": SYSTEM, "kind": "fake", "base_url": "fake://bench"},
                    {"name": "dvcqg", "kind": "fake", "base_url": "fake://dvcqg"},
                ],
                "units": [
                    {
                        "code": UNIT,
                        "name": "Thị trấn Núi Thành",
                        "level": "province",
                        "agency_id": AGENCY,
                        "system": SYSTEM,
                    },
                ],
            }
        )
    )


def _store(source: SqliteSource, db: Database, stored: int) -> datetime:
    """``stored`` dossiers at the source, each already recorded once by the hub; returns the newest change time.

    The hub's rows go in through the driver in one transaction, with the table's indexes dropped during the load
    and created again after it, exactly as the migrations define them (a bulk build is several times faster).
    """
    newest = T0 + timedelta(seconds=stored)
    source.load((UNIT, _code(n), _iso(T0 + timedelta(seconds=n)), 1, "{}") for n in range(stored))
    at = _iso(T0).replace("T", " ")
    with db.engine.begin() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL"
        ).all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql(
            "INSERT INTO messages (kind, actor, queue, state, dossier_code, dossier_version, unit_code, source, "
            "attempts, payload, created_at, updated_at) "
            "VALUES ('sync', 'sync_dossier', 'sync', 'succeeded', ?, 1, ?, ?, 1, '{}', ?, ?)",
            [(_code(n), UNIT, SYSTEM, at, at) for n in range(stored)],
        )
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql(
            "INSERT INTO watermarks (system, unit_code, value, updated_at) VALUES (?, ?, ?, ?)",
            (SYSTEM, UNIT, _iso(newest).replace("T", " "), at),
        )
    return newest


class Statements:
    """The SQL the hub's poll path sends, so the benchmark can show how the database plans each one."""

    def __init__(self, db: Database) -> None:
        self.seen: dict[str, Any] = {}
        event.listen(db.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not many:
            self.seen.setdefault(" ".join(statement.split()), parameters)

    def plans(self, db: Database) -> list[str]:
        out = []
        with db.engine.connect() as conn:
            for statement, parameters in self.seen.items():
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                table = statement.split(" FROM ", 1)[1].split()[0] if " FROM " in statement else "?"
                out.append(f"{table}: " + "; ".join(str(r[-1]) for r in rows))
        return out


def measure(stored: int, folder: Path) -> tuple[float, float, list[str]]:
    """Median seconds of reading the feed alone and of the hub's whole poll, 100 changes, ``stored`` stored."""
    url = f"sqlite:///{folder / f'hub-{stored}.sqlite3'}"
    upgrade(url)
    db = Database(url)
    source = SqliteSource(folder / f"source-{stored}.sqlite3")
    settings = Settings(_env_file=None, database_url=url, broker_url="memory://")
    topology = _topology()
    ctx = HubContext(
        settings=settings,
        db=db,
        topology=topology,
        connectors=ConnectorPool(topology, settings, prebuilt={SYSTEM: source}),
        procedures=None,
    )
    started = time.perf_counter()
    clock = _store(source, db, stored)
    print(f"  stored {stored:>9,} dossiers at the source and in the hub's log in {time.perf_counter() - started:.1f} s")
    timings: list[float] = []
    feed_timings: list[float] = []
    statements = Statements(db)
    next_n = stored
    for round_ in range(ROUNDS):
        # 100 dossiers change: half are new, half are new revisions of stored ones (a different half each round)
        changed = [(next_n + i, 1) if i % 2 else (((round_ * CHANGES + i) * 7919) % stored, 2) for i in range(CHANGES)]
        next_n += CHANGES
        clock += timedelta(minutes=10)
        source.load(
            (UNIT, _code(n), _iso(clock + timedelta(seconds=i)), version, "{}")
            for i, (n, version) in enumerate(changed)
        )
        clock += timedelta(seconds=CHANGES)
        began = time.perf_counter()
        token: str | None = None
        while True:  # the source's share: every page of the feed since the watermark minus the overlap
            page = source.fetch_changes(UNIT, clock - timedelta(seconds=CHANGES + settings.poll_overlap_seconds), token)
            token = page.next_token
            if token is None:
                break
        feed_timings.append(time.perf_counter() - began)
        message_id = request_poll(db, SYSTEM, UNIT, reason="bench")
        began = time.perf_counter()
        run_poll(ctx, message_id)
        timings.append(time.perf_counter() - began)
        with db.session() as session:
            result = session.get(Message, message_id)
            assert result is not None and result.result is not None, result
            assert result.result["recorded"] == CHANGES, result.result
    plans = [f"source feed: {source.plan()}", *statements.plans(db)]
    ctx.close()
    return statistics.median(feed_timings), statistics.median(timings), plans


def main() -> None:
    lines = [
        f"bench_schedules — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs",
        f"incremental poll of {CHANGES} changes (pages of {PAGE}) through hub.sync.run_poll, SQLite hub and source;",
        f"median of {ROUNDS} polls, each after {CHANGES} new changes; 'feed' is the source's share alone",
    ]
    for line in lines:
        print(line)
    feeds: dict[int, float] = {}
    polls: dict[int, float] = {}
    plans: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-schedules-") as tmp:
        for stored in SIZES:
            feeds[stored], polls[stored], plans = measure(stored, Path(tmp))
            line = f"stored {stored:>9,}: feed {feeds[stored] * 1000:7.2f} ms, poll {polls[stored] * 1000:8.1f} ms"
            print(line)
            lines.append(line)
    small, large = SIZES
    feed_ratio = feeds[large] / feeds[small]
    poll_ratio = polls[large] / polls[small]
    summary = [
        f"feed ratio {large:,} / {small:,} stored = {feed_ratio:.2f} "
        f"({'follows the changes' if feed_ratio < MAX_RATIO else 'GROWS WITH STORED DATA'})",
        f"poll ratio {large:,} / {small:,} stored = {poll_ratio:.2f} "
        f"({'follows the changes' if poll_ratio < MAX_RATIO else 'GROWS WITH STORED DATA'}; target < {MAX_RATIO})",
        "query plans of the poll path (with the larger store):",
        *[f"  {plan}" for plan in plans],
    ]
    for line in summary:
        print(line)
    lines.extend(summary)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
