"""attempts partitioned by month on PostgreSQL, so that retention drops an archived month instead of deleting rows

On PostgreSQL the table becomes ``PARTITION BY RANGE (started_at)``: one partition per Vietnam-time month
(``attempts_YYYY_MM``, bounds at midnight +07:00 on the first of the month, like the log's days) and a default
partition that takes a row no month partition covers (none is lost while the daily job has not yet created its
month). A partitioned table needs the partition key in every unique constraint: the primary key becomes
``(id, started_at)``; ``id`` still comes from the same sequence, so it stays unique on its own, and nothing refers
to an attempt by a foreign key. The foreign key to ``messages`` (``ON DELETE CASCADE``) and both indexes are
declared on the parent and so exist on every partition. The existing rows are copied with their ids, chain hashes
and digests unchanged, into a partition per month they span, plus this month and the next ones
(:data:`hub.store.partitions.MONTHS_AHEAD`); from then on the retention job creates months ahead.

``messages`` is not partitioned: it does not fit. Its primary key is referred to by foreign keys (every attempt's
``message_id``, a replay's ``replay_of``), which would all have to carry the partition key; and it is not kept by
age: a parked or held message stays until an operator handles it, whatever its month, so no month of it could be
dropped whole.

SQLite is unchanged (no partitions; retention deletes an archived day's rows).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from foundation.clock import utcnow
from hub.store import partitions

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEXES = (
    "CREATE INDEX ix_attempts_message ON {table} (message_id, number)",
    "CREATE INDEX ix_attempts_started ON {table} (started_at)",
)


def _convert(*, partitioned: bool) -> None:
    """Rebuild ``attempts`` as a partitioned table (or back as a plain one), keeping its rows, ids and sequence."""
    old = "attempts_before_0010"
    op.execute("ALTER SEQUENCE attempts_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE attempts RENAME TO {old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT pk_attempts TO pk_{old}")
    op.execute(f"ALTER TABLE {old} RENAME CONSTRAINT fk_attempts_message_id_messages TO fk_{old}_message_id")
    op.execute("DROP INDEX ix_attempts_message")
    op.execute("DROP INDEX ix_attempts_started")
    tail = " PARTITION BY RANGE (started_at)" if partitioned else ""
    op.execute(f"CREATE TABLE attempts (LIKE {old} INCLUDING DEFAULTS){tail}")
    key = "id, started_at" if partitioned else "id"
    op.execute(f"ALTER TABLE attempts ADD CONSTRAINT pk_attempts PRIMARY KEY ({key})")
    op.execute(
        "ALTER TABLE attempts ADD CONSTRAINT fk_attempts_message_id_messages FOREIGN KEY (message_id) "
        "REFERENCES messages (id) ON DELETE CASCADE"
    )
    for index in _INDEXES:
        op.execute(index.format(table="attempts"))
    if partitioned:
        connection = op.get_bind()
        first, last = connection.execute(
            text("SELECT min(started_at), max(started_at) FROM attempts_before_0010")
        ).one()
        this_month = partitions.month_of(utcnow())
        start = min(partitions.month_of(first), this_month) if first is not None else this_month
        end = max(partitions.month_of(last), this_month) if last is not None else this_month
        for month in partitions.months(start, end, ahead=partitions.MONTHS_AHEAD):
            op.execute(partitions.create_sql(month))
        op.execute(partitions.DEFAULT_SQL)
    op.execute("INSERT INTO attempts SELECT * FROM attempts_before_0010")
    op.execute(f"DROP TABLE {old}")
    op.execute("ALTER SEQUENCE attempts_id_seq OWNED BY attempts.id")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _convert(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _convert(partitioned=False)
