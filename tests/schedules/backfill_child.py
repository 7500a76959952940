"""A backfill process for the kill-and-resume test: ``python -m tests.schedules.backfill_child <dvc-hub args>``.

It runs the real ``dvc-hub backfill`` command against a one-stop-shop whose history is the same in every run (as a
real source's past is), with the database from ``DVC_HUB_DATABASE_URL``.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from cli.main import app
from foundation.clock import VN_TZ
from foundation.settings import get_settings
from foundation.topology import load
from hub import context, procedures
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from systems.fake.connector import FakeConnector
from tests.hub.factories import AGENCY, record

SOURCE = "motcua-quangnam"
UNITS = ("20965", "20968", "517")
FIRST_DAY = datetime(2024, 3, 1, tzinfo=VN_TZ)
DAYS = 30
PER_DAY = 4


def history(source: FakeConnector) -> list[str]:
    """Seed ``source`` with 30 days of dossiers of every unit; returns their codes."""
    codes = []
    for unit in UNITS:
        for day in range(DAYS):
            received = FIRST_DAY + timedelta(days=day)
            for n in range(1, PER_DAY + 1):
                code = f"{AGENCY[unit]}-{received:%y%m%d}-{n:04d}"
                at = received + timedelta(hours=7 + 2 * n, minutes=day % 50)
                source.put(unit, record(code, unit=unit, updated_at=at), updated_at=at)
                codes.append(code)
    return codes


def main(argv: list[str]) -> None:
    settings = get_settings()
    db = Database(settings.database_url)
    topology = load(settings.topology_file)
    source = FakeConnector(SOURCE)
    history(source)
    context.install(
        HubContext(
            settings=settings,
            db=db,
            topology=topology,
            connectors=ConnectorPool(topology, settings, prebuilt={SOURCE: source}),
            procedures=procedures.DbProcedureLookup(db),
        )
    )
    app(["backfill", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
