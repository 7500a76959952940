"""Exactly once across the push-intent window: a worker that pushes a record and dies before recording it leaves a
push intent, and the next attempt asks the portal before pushing again; a clean first attempt asks nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from connectors.base import PushResult, RawRecord
from connectors.errors import RemoteUnavailable
from foundation.errors import HubError
from hub.store.db import Database
from hub.store.models import Delivery, Dossier, MessageState
from hub.sync import request_poll
from systems.fake.connector import FakeConnector
from tests.hub.conftest import Hub, running_hub
from tests.hub.factories import COMMUNE, DISTRICT, T0, dossier_code, progress, record
from tests.hub.test_pipeline import PORTAL, pushes, put, record_at, transferred
from tests.waiting import eventually


class DiesAfterPush(FakeConnector):
    """A portal whose caller dies right after each dossier's first successful push, before it can record it."""

    def __init__(self) -> None:
        super().__init__("dvcqg")
        self.died_after: set[str] = set()

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        results = super().push_dossiers(unit_code, records, existing=existing)
        fresh = [r.dossier_code for r in results if r.ok and r.dossier_code not in self.died_after]
        if fresh:
            self.died_after.update(fresh)
            raise RuntimeError("the worker died between the push and its record")  # not a hub error: a crash
        return results


def test_a_crash_between_push_and_record_never_pushes_a_version_twice(db: Database) -> None:
    portal = DiesAfterPush()
    with running_hub(db, portal=portal) as hub:
        # Given dossiers whose every first push is followed by a crash before the hub records it
        codes = [dossier_code(COMMUNE, n) for n in range(1, 6)]
        for code in codes:
            put(hub, COMMUNE, record(code, steps=[progress(2, T0, "Tiếp nhận")]))

        # When the pipeline runs (the crashed deliveries are tried again; a shared machine may be slow)
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=120)

        # Then every dossier version reached the portal exactly once, and is recorded as delivered
        assert portal.died_after == set(codes)
        assert pushes(portal) == {code: 1 for code in codes}
        assert {m.state for m in hub.messages(kind="deliver")} == {MessageState.SUCCEEDED.value}
        looked_up = {c for call in portal.calls if call.operation == "lookup" for c in call.dossier_codes}
        assert looked_up == set(codes)  # only the attempts after a possible push asked the portal


def test_a_first_delivery_asks_the_portal_once_and_a_later_revision_nothing(db: Database) -> None:
    with running_hub(db) as hub:
        codes = [dossier_code(COMMUNE, n) for n in range(1, 4)]
        for code in codes:
            put(hub, COMMUNE, record(code))
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=120)
        # (the portal may hold a dossier the hub has no delivery record of: a restored database; #22 point 3)
        first_lookups = [c.dossier_codes for c in hub.portal.calls if c.operation == "lookup"]

        put(hub, COMMUNE, record(codes[0], version=2, status=4))
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=120)

        assert sorted(first_lookups) == sorted((code,) for code in codes)
        assert pushes(hub.portal) == {codes[0]: 2, codes[1]: 1, codes[2]: 1}
        assert len([c for c in hub.portal.calls if c.operation == "lookup"]) == len(codes)


def test_a_failed_progress_push_records_the_record_step_and_the_retry_pushes_only_the_progress(db: Database) -> None:
    failed: set[str] = set()

    def first_progress_fails(operation: str, unit: str, code: str | None) -> HubError | None:
        if operation == "push_progress" and code is not None and code not in failed:
            failed.add(code)
            return RemoteUnavailable("cổng tạm thời không phản hồi (portal unavailable)", dossier_code=code)
        return None

    with running_hub(db, portal=FakeConnector("dvcqg", failures=first_progress_fails)) as hub:
        # Given dossiers whose first progress push fails after their record was pushed
        codes = [dossier_code(COMMUNE, n) for n in range(1, 4)]
        for code in codes:
            put(hub, COMMUNE, record(code, steps=[progress(2, T0, "Tiếp nhận")]))

        # When the pipeline runs and the deliveries are retried
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=120)

        # Then each record was pushed once, its progress arrived on the retry, and the retry looked nothing up
        assert failed == set(codes)
        assert pushes(hub.portal) == {code: 1 for code in codes}
        assert {m.state for m in hub.messages(kind="deliver")} == {MessageState.SUCCEEDED.value}
        with hub.db.session() as session:
            keys = {(c, t) for c, t in session.execute(select(Delivery.dossier_code, Delivery.target))}
        assert {(code, "dvcqg#record") for code in codes} <= keys
        # (the first attempt's look-up of a dossier never delivered before; the retry asked nothing)
        lookups = [c.dossier_codes for c in hub.portal.calls if c.operation == "lookup"]
        assert sorted(lookups) == sorted((code,) for code in codes)


class CrashesAfterPushWhile(FakeConnector):
    """A portal that takes the first push of the given dossiers, after which the pushing worker dies before it can
    record the push; ``meanwhile`` runs in between (a worker whose process hangs on to the push while the hub
    moves on), so what happens before the crashed delivery is tried again is up to the test, not the timing."""

    def __init__(self, meanwhile: Callable[[], None]) -> None:
        super().__init__("dvcqg")
        self.codes: set[str] = set()
        self.meanwhile = meanwhile
        self.crashed = False
        self.records: dict[str, list[RawRecord]] = defaultdict(list)  # every record taken, in order
        self.existing: dict[str, list[bool]] = defaultdict(list)  # whether each went as an update

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        results = super().push_dossiers(unit_code, records, existing=existing)
        for pushed, result in zip(records, results, strict=True):
            self.records[result.dossier_code].append(pushed)
            self.existing[result.dossier_code].append(result.dossier_code in (existing or ()))
        if not self.crashed and self.codes & {r.dossier_code for r in results if r.ok}:
            self.crashed = True
            self.meanwhile()
            raise RuntimeError("the worker died between the push and its record")
        return results


def hub_version(hub: Hub, code: str) -> int:
    with hub.db.session() as session:
        return int(session.execute(select(Dossier.version).where(Dossier.code == code)).scalar() or 0)


@pytest.mark.parametrize(
    ("unit", "new_status"), [(COMMUNE, None), (DISTRICT, 5)], ids=["a-receivers-note", "the-owners-new-status"]
)
def test_a_revision_superseding_a_push_that_was_never_recorded_is_not_pushed_again_as_new(
    db: Database, unit: str, new_status: int | None
) -> None:
    """The window of issue #28 (chaos: one dossier's record pushed twice to the portal, one success logged).

    A batch pushes revision 1 of transferred dossiers and its worker dies before recording the push; the push
    intents stay. Before the deliveries are tried again, a unit's copy changes and the hub stores revision 2, so
    revision 1's delivery is skipped as superseded and revision 2's goes out. Revision 2 must know that the portal
    may hold revision 1. A receiver's note changes only the progress (the record is the processing unit's, as
    revision 1 had it): the record is not pushed again, only the progress. The owner's new status changes the
    record: it goes as an update of a dossier the portal has, not as a new one (which the portal refuses as
    "already exists"). The intent of an older revision not recorded as delivered makes the delivery look the
    portal's copy up first, for a batch's leader and followers alike; the intent is a row of the hub's database, so
    a flushed broker forgets nothing of it.
    """
    hub: Hub

    def a_copy_changes_and_the_hub_syncs_it() -> None:
        # every dossier's revision 1 first: a copy changed before its first sync would reach the hub as revision 1
        eventually(lambda: all(hub_version(hub, code) == 1 for code in codes), timeout=60, what="revision 1 stored")
        for code in codes:
            record_at(hub, unit, code, progress(4, T0 + timedelta(hours=2), "Ghi chú", unit), status=new_status)
        request_poll(hub.db, "motcua-quangnam", unit, reason="test")
        eventually(lambda: all(hub_version(hub, code) == 2 for code in codes), timeout=60, what="revision 2 stored")

    portal = CrashesAfterPushWhile(a_copy_changes_and_the_hub_syncs_it)
    with running_hub(db, portal=portal, threads=6) as hub:
        # Given transferred dossiers whose first push is taken by the portal, and whose worker then dies
        codes = [transferred(hub, n) for n in range(1, 4)]
        portal.codes.update(codes)

        # When the processing unit's copies reach the hub, a copy changes meanwhile, and the pipeline runs to the end
        request_poll(hub.db, "motcua-quangnam", DISTRICT, reason="test")
        hub.drain(timeout=120)

        # Then no record reached the portal twice with the same content, and a later one went as an update
        assert portal.crashed
        for code in codes:
            records = portal.records[code]
            assert len(records) == len({json.dumps(r, sort_keys=True, default=str) for r in records}), code
            assert all(portal.existing[code][1:]), f"{code} went again as a new dossier: {portal.existing[code]}"
            assert len(portal.progress(code)) == 3  # the three entries, once each
        latest = {(m.dossier_code, m.state) for m in hub.messages(kind="deliver", target=PORTAL, dossier_version=2)}
        assert latest == {(code, MessageState.SUCCEEDED.value) for code in codes}
