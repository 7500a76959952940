"""Scheduler processes started the way an operator starts them (``dvc-hub scheduler``), and an embedded hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import pytest

from foundation.settings import Settings
from foundation.topology import load
from hub import context, procedures
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from hub.worker import embedded_workers
from systems.fake.connector import FakeConnector
from tests.conftest import ROOT, TOPOLOGIES
from tests.hub.conftest import Hub, fresh_queues
from tests.hub.factories import T0

SOURCE = "motcua-quangnam"
QUANG_NAM = TOPOLOGIES / "quang-nam-2023.yaml"
DVC_HUB = Path(sys.executable).parent / "dvc-hub"  # the console script, as an operator runs it


class Processes:
    """Child processes of one test, killed at teardown whatever happened."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.children: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def _log(self, name: str) -> IO[bytes]:
        handle = (self.tmp_path / f"{name}-{len(self.children)}.log").open("wb")
        self._files.append(handle)
        return handle

    def scheduler(self, env: dict[str, str], *args: str, name: str = "scheduler") -> subprocess.Popen[bytes]:
        log = self._log(name)
        child = subprocess.Popen(
            [str(DVC_HUB), "scheduler", *args],
            cwd=ROOT,
            env={**os.environ, "DVC_HUB_TOPOLOGY_FILE": str(QUANG_NAM), "DVC_HUB_LOG_LEVEL": "WARNING", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.children.append(child)
        return child

    def python(self, code: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        log = self._log("python")
        child = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.children.append(child)
        return child

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("*.log")))

    def kill_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        for handle in self._files:
            handle.close()
        self._files.clear()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.kill_all()


@pytest.fixture
def embedded_hub(db: Database) -> Iterator[Hub]:
    """The hub's pipeline on worker threads of this process, reading a fake one-stop-shop."""
    settings = Settings(_env_file=None, database_url=db.url, reconcile_after_seconds=600)
    topology = load(QUANG_NAM)
    source = FakeConnector(SOURCE, page_size=7)  # small pages: every poll follows continuation tokens
    portal = FakeConnector("dvcqg")
    procedures.set_mapping(db, "NT-HT-001", "1.001193", field_code="HT", field_name="Hộ tịch", user="test")
    ctx = HubContext(
        settings=settings,
        db=db,
        topology=topology,
        connectors=ConnectorPool(topology, settings, prebuilt={SOURCE: source, "dvcqg": portal}),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: datetime(2024, 3, 5, 9, 0, tzinfo=T0.tzinfo),
    )
    context.install(ctx)
    fresh_queues()
    with embedded_workers(ctx, threads=4):
        yield Hub(ctx, source, portal)
    context.install(None)
