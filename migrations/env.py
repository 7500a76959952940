"""Alembic environment: the URL comes from the caller (migrations.upgrade) or the hub's settings."""

from __future__ import annotations

from alembic import context

import console.models  # noqa: F401  (the one registry of model modules: the console's tables)
import hub.backfill
import hub.catalogue  # noqa: F401  (the portal's catalogues)
import reports.models  # noqa: F401  (the reports' tables)
import schedules.models  # noqa: F401  (the schedules' tables)
from foundation.settings import get_settings
from hub.store.db import make_engine
from hub.store.models import Base
from migrations import include_name

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True, include_name=include_name
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        # render_as_batch: SQLite can only ALTER TABLE by copying it; Alembic's batch mode does that.
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
