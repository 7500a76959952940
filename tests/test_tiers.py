"""The tiers select by what a test needs: the marks come from the fixtures a test uses, directly or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import pytest_collection_modifyitems


@dataclass
class Callspec:
    params: dict[str, Any]


@dataclass
class Item:
    """What the collection hook reads of a collected test: its fixture closure and parameters."""

    fixturenames: tuple[str, ...]
    callspec: Callspec | None = None
    marks: list[str] = field(default_factory=list)

    def add_marker(self, mark: str) -> None:
        self.marks.append(mark)


@pytest.mark.parametrize(
    ("closure", "params", "marks"),
    [
        (("db", "sqlite_url", "tmp_path"), None, []),
        (("world", "start_simulators", "tmp_path_factory"), None, ["server"]),
        (("client", "live", "start_console", "db"), None, ["server"]),
        (("played", "serves_http"), None, ["server"]),
        (("embedded_hub", "processes", "redis_url"), None, ["redis", "subprocess"]),
        (("page", "browser", "pipeline", "start_console"), None, ["browser", "server"]),
        (("any_db_url",), {"any_db_url": "postgres"}, ["postgres"]),
        (("any_db_url",), {"any_db_url": "sqlite"}, []),
    ],
)
def test_a_test_is_marked_by_what_its_fixtures_start(
    closure: tuple[str, ...], params: dict[str, Any] | None, marks: list[str]
) -> None:
    item = Item(closure, Callspec(params) if params is not None else None)
    pytest_collection_modifyitems([item])  # type: ignore[list-item]
    assert item.marks == marks
