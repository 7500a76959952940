"""A hub with no memory of a dossier never sends a target back a stage (#22, point 3 / Done-when 3): a source's
replica older than its feed announced is retried, never applied, and the first push of a dossier the hub has no
delivery record of is checked against the portal's copy."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from connectors.base import ChangeRef, PushResult, RawRecord
from hub.store.db import Database
from hub.store.models import MessageState
from systems.fake.connector import FakeConnector
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, T0, dossier_code, progress, record
from tests.hub.test_pipeline import poll, put
from tests.waiting import eventually


class RecordingPortal(FakeConnector):
    """The portal, remembering every status it was sent for each dossier, in order."""

    def __init__(self) -> None:
        super().__init__("dvcqg")
        self.statuses: dict[str, list[str]] = {}

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        for r in records:
            self.statuses.setdefault(str(r["MaHoSo"]), []).append(str(r["TrangThaiHoSo"]))
        return super().push_dossiers(unit_code, records, existing=existing)


class LaggingReplica:
    """The source whose first ``lag`` reads of a dossier come from a replica still at an older revision."""

    def __init__(self, source: FakeConnector, stale: RawRecord, lag: int) -> None:
        self.source = source
        self.stale = stale
        self.lag = lag
        self.reads = 0

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> RawRecord:
        self.reads += 1
        if self.reads <= self.lag:
            return dict(self.stale)
        return self.source.get_dossier(unit_code, dossier_code, seen=seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)


def _portal_copy(code: str, status: int) -> dict[str, Any]:
    """What an earlier installation of the hub delivered: the portal's copy at ``status``."""
    return {"MaHoSo": code, "TrangThaiHoSo": str(status), "NgayTiepNhan": "20240304080000"}


def test_a_stale_replica_on_an_empty_hub_database_never_takes_the_portal_back_a_stage(db: Database) -> None:
    # Given a portal holding a dossier at "result ready" (9), delivered by a hub whose database is now empty
    code = dossier_code(COMMUNE, 1)
    portal = RecordingPortal()
    portal.seed_target(_portal_copy(code, 9))
    steps = [progress(2, T0, "Tiếp nhận"), progress(4, T0, "Xử lý"), progress(9, T0, "Xong")]
    stale = record(code, version=2, status=4, steps=steps[:2])
    replica: list[LaggingReplica] = []

    def lagging(source: FakeConnector) -> LaggingReplica:
        replica.append(LaggingReplica(source, stale, lag=2))
        return replica[0]

    with running_hub(db, portal=portal, source_over=lagging) as hub:
        # and a source whose feed announces revision 3 (status 9) while its replica still answers revision 2
        put(hub, COMMUNE, record(code, version=3, status=9, steps=steps))
        # When the hub polls the unit
        poll(hub)
        eventually(lambda: portal.statuses.get(code) is not None, timeout=30, what=lambda: "a push of the dossier")
        hub.drain(timeout=60)
        syncs = hub.messages(kind="sync")

    # Then the stale read was tried again, never applied, and the portal was only ever sent the later stage
    assert replica[0].reads == 3
    assert [m.state for m in syncs] == [MessageState.SUCCEEDED.value]
    assert syncs[0].attempts == 3
    assert portal.statuses[code] == ["9"]
    assert str(portal.pushed[code]["TrangThaiHoSo"]) == "9"


def test_the_first_push_of_a_forgotten_dossier_never_sends_an_earlier_stage(db: Database) -> None:
    # Given a portal holding two dossiers at "result returned" (10) and "being processed" (4), and an empty hub
    ahead, behind = dossier_code(COMMUNE, 1), dossier_code(COMMUNE, 2)
    portal = RecordingPortal()
    portal.seed_target(_portal_copy(ahead, 10))
    portal.seed_target(_portal_copy(behind, 4))
    with running_hub(db, portal=portal) as hub:
        # When the source's copies, both being processed, are synced for the first time
        steps = [progress(2, T0, "Tiếp nhận"), progress(4, T0, "Xử lý")]
        put(hub, COMMUNE, record(ahead, version=2, status=4, steps=steps))
        put(hub, COMMUNE, record(behind, version=2, status=4, steps=steps))
        poll(hub)
        delivered = {m.dossier_code: m.state for m in hub.messages(kind="deliver")}

    # Then the one the portal holds at a later stage is sent nothing (its copy stays at 10), the other is updated
    assert portal.statuses == {behind: ["4"]}
    assert str(portal.pushed[ahead]["TrangThaiHoSo"]) == "10"
    assert portal.progress(ahead) == []
    assert set(delivered.values()) == {MessageState.SUCCEEDED.value}
