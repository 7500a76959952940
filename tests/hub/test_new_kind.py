"""DoD 3 of issue 11: a new target kind is a package plus configuration. The package is written here, into a
temporary directory the hub has never seen, and the pipeline delivers to it beside the national portal."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from hub.store.db import Database
from hub.store.models import Attempt, Delivery
from hub.sync import request_poll
from systems import registry
from tests.hub.conftest import QUANG_NAM, Hub, running_hub
from tests.hub.factories import COMMUNE, T0, dossier_code, progress, record

PACKAGE = "throwaway_ministry"
KIND = "throwaway-ministry"

# A ministry's system that takes each dossier as a small JSON document and each processing step as an event.
SOURCE = '''
"""A ministry's dossier registry: kind ``throwaway-ministry``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Self

from connectors.base import Health, PushResult
from systems.kind import Options, Outgoing, SystemKind

RECEIVED: dict[str, list[dict[str, Any]]] = {"records": [], "events": [], "channels": []}
_lock = threading.Lock()


class MinistryOptions(Options):
    channel: str


class MinistryConnector:
    def __init__(self, channel: str) -> None:
        self.channel = channel

    def lookup(self, unit_code: str, dossier_code: str) -> dict[str, Any] | None:
        with _lock:
            return next((r for r in reversed(RECEIVED["records"]) if r["ho_so"] == dossier_code), None)

    def push_dossiers(
        self, unit_code: str, records: Sequence[dict[str, Any]], *, existing: Any = None
    ) -> list[PushResult]:
        with _lock:
            RECEIVED["records"].extend(dict(r) for r in records)
            RECEIVED["channels"].append(self.channel)
        return [PushResult(r["ho_so"], created=True) for r in records]

    def push_progress(self, unit_code: str, entries: Sequence[dict[str, Any]]) -> list[PushResult]:
        with _lock:
            RECEIVED["events"].extend(dict(e) for e in entries)
        return [PushResult(e["ho_so"]) for e in entries]

    def health(self) -> Health:
        return Health(ok=True, latency_ms=0.0, detail="in memory")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def to_target(dossier, new_progress, unit_code, procedures) -> Outgoing:
    record = {
        "ho_so": dossier.code,
        "thu_tuc": dossier.national_procedure_code,
        "trang_thai": int(dossier.status),
        "nguoi_nop": dossier.applicant.name,
    }
    events = [{"ho_so": dossier.code, "luc": e.at.isoformat(), "viec": e.content} for e in new_progress]
    return Outgoing(record=record, progress=events)


KINDS = {
    "throwaway-ministry": SystemKind(
        name="throwaway-ministry",
        options=MinistryOptions,
        build=lambda system, settings, endpoint, options: MinistryConnector(options.channel),
        personal=frozenset({"nguoi_nop"}),
        to_target=to_target,
        national=True,
    )
}
'''


@pytest.fixture
def ministry_hub(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Hub, Any]]:
    """The embedded hub with the province's topology plus the ministry, declared in configuration only."""
    package = tmp_path / "plugins" / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(package.parent))

    spec = yaml.safe_load(QUANG_NAM.read_text(encoding="utf-8"))
    spec["kinds"] = {KIND: PACKAGE}
    spec["targets"] = ["dvcqg", "ministry"]
    spec["systems"].append(
        {"name": "ministry", "kind": KIND, "base_url": "http://127.0.0.1:1/bo", "options": {"channel": "ho-tich"}}
    )
    topology_file = tmp_path / "with-ministry.yaml"
    topology_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")

    registry.reset()
    try:
        with running_hub(db, topology_file=topology_file) as hub:
            yield hub, importlib.import_module(PACKAGE).RECEIVED
    finally:
        registry.reset()
        sys.modules.pop(PACKAGE, None)


def test_a_kind_registered_by_configuration_alone_receives_every_dossier_beside_the_portal(
    ministry_hub: tuple[Hub, Any],
) -> None:
    hub, received = ministry_hub
    codes = [dossier_code(COMMUNE, n) for n in (1, 2)]
    steps = [progress(2, T0, "Tiếp nhận hồ sơ"), progress(4, T0, "Chuyển phòng chuyên môn")]

    # Given two dossiers at the commune's one-stop-shop
    for code in codes:
        rec = record(code, steps=steps)
        hub.source.put(COMMUNE, rec, updated_at=rec["NgayCapNhat"])

    # When the commune is polled
    request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
    hub.drain()

    # Then the portal and the ministry each have both dossiers once, the ministry in its own shape, on the channel
    # its typed options name, with the processing steps as its events
    portal = Counter(c for call in hub.portal.calls if call.operation == "push_dossiers" for c in call.dossier_codes)
    assert portal == Counter(codes)
    assert sorted(r["ho_so"] for r in received["records"]) == codes
    assert {r["thu_tuc"] for r in received["records"]} == {"1.001193"}
    assert set(received["channels"]) == {"ho-tich"}
    assert Counter(e["ho_so"] for e in received["events"]) == Counter({code: 2 for code in codes})
    with hub.db.session() as session:
        delivered = Counter(t for t in session.scalars(select(Delivery.target)) if "#" not in t)  # not the steps
    assert delivered == Counter({"dvcqg": 2, "ministry": 2})

    # and the integration log keeps what the ministry was sent, its applicant's name masked in the viewers' copy
    with hub.db.session() as session:
        sent = [a.request_redacted for a in session.scalars(select(Attempt)) if a.request_redacted]
    to_ministry = [item["record"] for body in sent for item in body["batch"] if "nguoi_nop" in item["record"]]
    assert len(to_ministry) == 2
    assert {r["nguoi_nop"] for r in to_ministry} == {"***"}
