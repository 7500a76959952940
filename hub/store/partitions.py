"""The monthly partitions of ``attempts`` on PostgreSQL: their names, bounds and DDL.

A partition holds one Vietnam-time month of ``started_at`` (bounds at midnight +07:00 on the first of the month, as
the integration log's days are Vietnam days), so a month is a whole number of the log's days and dropping it
removes exactly those days. ``attempts_default`` takes any row no month partition covers. SQLite has none of this.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time

from sqlalchemy import Connection, text

from foundation.clock import VN_TZ

MONTHS_AHEAD = 2  # the daily job keeps this month and the next two created, so no insert waits on DDL
DEFAULT = "attempts_default"
DEFAULT_SQL = f"CREATE TABLE {DEFAULT} PARTITION OF attempts DEFAULT"
_NAME = re.compile(r"^attempts_(\d{4})_(\d{2})$")


def month_of(moment: datetime) -> date:
    """The first day of the Vietnam-time month ``moment`` falls in."""
    return moment.astimezone(VN_TZ).date().replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date, *, ahead: int = 0) -> Iterator[date]:
    """Every month from ``first`` to ``last`` and ``ahead`` more."""
    month, end = first, last
    for _ in range(ahead):
        end = next_month(end)
    while month <= end:
        yield month
        month = next_month(month)


def bounds(month: date) -> tuple[datetime, datetime]:
    """A month as a UTC half-open interval of ``started_at``."""
    start = datetime.combine(month, time(0), tzinfo=VN_TZ).astimezone(UTC)
    return start, datetime.combine(next_month(month), time(0), tzinfo=VN_TZ).astimezone(UTC)


def name(month: date) -> str:
    return f"attempts_{month.year:04d}_{month.month:02d}"


def create_sql(month: date) -> str:
    """The DDL of a month's partition, on a table that has no default partition yet (the migration)."""
    start, end = bounds(month)
    return (
        f"CREATE TABLE IF NOT EXISTS {name(month)} PARTITION OF attempts "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def create(connection: Connection, month: date) -> int:
    """Create a month's partition, moving into it the rows the default partition took for that month (none when
    the month is created ahead, as the daily job does); returns how many were moved."""
    start, end = bounds(month)
    table, span = name(month), f"started_at >= '{start.isoformat()}' AND started_at < '{end.isoformat()}'"
    connection.execute(text(f"CREATE TABLE {table} (LIKE attempts INCLUDING DEFAULTS)"))
    move = f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {span} RETURNING *) INSERT INTO {table} SELECT * FROM moved"  # noqa: S608 - names and bounds made here, never input
    moved = connection.execute(text(move)).rowcount
    connection.execute(
        text(
            f"ALTER TABLE attempts ATTACH PARTITION {table} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    return int(moved)


def existing(connection: Connection) -> list[date]:
    """The months that have a partition now, oldest first."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'attempts'"
        )
    ).scalars()
    found = [_NAME.match(row) for row in rows]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def is_partition(table: str) -> bool:
    """Whether a table name is one of the partitions (which the models do not declare)."""
    return table == DEFAULT or _NAME.match(table) is not None
