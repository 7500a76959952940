"""Exactly once across the push-intent window: a worker that pushes a record and dies before recording it leaves a
push intent, and the next attempt asks the portal before pushing again; a clean first attempt asks nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select

from connectors.base import PushResult, RawRecord
from connectors.errors import RemoteUnavailable
from connectors.fake import FakeConnector
from foundation.errors import HubError
from hub.store.db import Database
from hub.store.models import Delivery, MessageState
from hub.sync import request_poll
from tests.hub.conftest import running_hub
from tests.hub.factories import COMMUNE, T0, dossier_code, progress, record
from tests.hub.test_pipeline import pushes, put


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


def test_a_clean_first_delivery_asks_the_portal_nothing(db: Database) -> None:
    with running_hub(db) as hub:
        codes = [dossier_code(COMMUNE, n) for n in range(1, 4)]
        for code in codes:
            put(hub, COMMUNE, record(code))
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=120)

        assert pushes(hub.portal) == {code: 1 for code in codes}
        assert [c for c in hub.portal.calls if c.operation == "lookup"] == []


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

        # Then each record was pushed once, its progress arrived on the retry, and no look-up was needed
        assert failed == set(codes)
        assert pushes(hub.portal) == {code: 1 for code in codes}
        assert {m.state for m in hub.messages(kind="deliver")} == {MessageState.SUCCEEDED.value}
        with hub.db.session() as session:
            keys = {(c, t) for c, t in session.execute(select(Delivery.dossier_code, Delivery.target))}
        assert {(code, "dvcqg#record") for code in codes} <= keys
        assert [c for c in hub.portal.calls if c.operation == "lookup"] == []
