"""The whole product's schema history (the hub's tables, the schedules' and the console's), applied, reverted and
inspected with Alembic on SQLite or PostgreSQL alike. :mod:`migrations.env` is the one registry of model modules."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from hub.store import partitions

MIGRATIONS = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def include_name(name: str | None, type_: str, _parents: MutableMapping[Any, str | None]) -> bool:
    """What autogenerate compares: not the monthly partitions of ``attempts``, which the models do not declare."""
    return not (type_ == "table" and name is not None and partitions.is_partition(name))


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def schema_status(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the newest ones this code knows (equal when the schema is current)."""
    heads = set(ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads
