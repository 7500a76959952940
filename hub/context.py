"""Everything a worker needs to process messages, built once per process: database, topology, connectors,
procedure-code mappings and the clock. Tests and the demo install their own with :func:`install`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Source, Target
from connectors.recording import Recorder
from foundation.clock import vietnam_now
from foundation.errors import ConfigurationError
from foundation.settings import Settings, get_settings
from foundation.topology import Topology, configured
from hub.attempts import AttemptRecorder
from hub.procedures import DbProcedureLookup
from hub.store.db import Database
from systems import registry
from systems.registry import build_source, build_target


class ConnectorPool:
    """Connectors built once per system and shared by the worker's threads (they own pooled HTTP sessions)."""

    def __init__(
        self,
        topology: Topology,
        settings: Settings,
        *,
        prebuilt: dict[str, Any] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.topology = topology
        self.settings = settings
        self.recorder = recorder or AttemptRecorder()  # every exchange goes to the try being run, if any
        registry.use(topology)  # the deployment's own system kinds
        self._built: dict[str, Any] = dict(prebuilt or {})
        self._lock = threading.Lock()

    def _get(self, name: str, build: Callable[..., Any]) -> Any:
        with self._lock:
            if name not in self._built:
                system = self.topology.systems.get(name)
                if system is None:
                    raise ConfigurationError(f"Hệ thống {name!r} không có trong cấu hình (unknown system {name!r})")
                connector = build(system, self.settings, recorder=self.recorder)
                connector.__enter__()
                self._built[name] = connector
            return self._built[name]

    def source(self, name: str) -> Source:
        connector: Source = self._get(name, build_source)
        return connector

    def target(self, name: str) -> Target:
        connector: Target = self._get(name, build_target)
        return connector

    def close(self) -> None:
        with self._lock:
            for connector in self._built.values():
                connector.__exit__(None, None, None)
            self._built.clear()


@dataclass
class HubContext:
    """What actors load their work from."""

    settings: Settings
    db: Database
    topology: Topology
    connectors: ConnectorPool
    procedures: Any  # mappings.procedures.ProcedureLookup
    clock: Callable[[], datetime] = vietnam_now

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> HubContext:
        settings = settings or get_settings()
        db = Database(settings.database_url)
        topology = configured(settings)
        return cls(
            settings=settings,
            db=db,
            topology=topology,
            connectors=ConnectorPool(topology, settings),
            procedures=DbProcedureLookup(db),
        )

    def close(self) -> None:
        self.connectors.close()
        self.db.dispose()


_lock = threading.Lock()
_context: HubContext | None = None


def install(context: HubContext | None) -> None:
    """Make ``context`` the one actors use (None forgets it, so the next use builds one from the settings)."""
    global _context
    with _lock:
        _context = context


def current() -> HubContext:
    """The process's context, built from the settings on first use."""
    global _context
    with _lock:
        if _context is None:
            _context = HubContext.from_settings()
        return _context
