"""An in-memory system for tests and the demo's dry runs: kind ``fake``, speaking the one-stop-shop's schema."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from connectors.http import Endpoint
from foundation.settings import Settings
from foundation.topology import System
from systems import motcua
from systems.fake.connector import FakeConnector
from systems.kind import Options, SystemKind
from systems.motcua.mapping import status_of

_lock = threading.Lock()
_fakes: dict[str, FakeConnector] = {}


def fake_connector(name: str) -> FakeConnector:
    """The process's in-memory connector for a ``fake`` system (tests seed it and inspect what was pushed)."""
    with _lock:
        return _fakes.setdefault(name, FakeConnector(name))


def forget() -> None:
    """Forget every fake (tests)."""
    with _lock:
        _fakes.clear()


def build(system: System, settings: Settings, endpoint: Endpoint, options: Any) -> FakeConnector:
    return fake_connector(system.name)


KINDS: Mapping[str, SystemKind] = {
    "fake": SystemKind(
        name="fake",
        options=Options,
        build=build,
        personal=motcua.PERSONAL,
        to_canonical=motcua.to_canonical,
        to_target=motcua.to_target,
        status_of=status_of,
    )
}
