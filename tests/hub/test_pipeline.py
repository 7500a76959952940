"""The pipeline end to end on the embedded broker: poll → sync → deliver, exactly once, in order, lossless."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.base import PushResult
from connectors.errors import RemoteRejected, RemoteUnavailable
from hub import control, outbox, procedures, replay
from hub.broker import dossier_mutex
from hub.reconcile import reconcile
from hub.store.db import Database
from hub.store.models import Attempt, Delivery, Dossier, MessageState, Watermark
from hub.sync import request_poll
from systems.fake.connector import FakeConnector
from tests.hub.conftest import Hub, running_hub
from tests.hub.factories import COMMUNE, DISTRICT, T0, dossier_code, progress, record
from tests.waiting import eventually

PORTAL = "dvcqg"


def pushes(fake: FakeConnector) -> Counter[str]:
    """How many times each dossier's record was pushed (progress entries aside)."""
    return Counter(code for call in fake.calls if call.operation == "push_dossiers" for code in call.dossier_codes)


def put(hub: Hub, unit: str, rec: dict) -> None:  # type: ignore[type-arg]
    hub.source.put(unit, rec, updated_at=rec["NgayCapNhat"])


def poll(hub: Hub, unit: str = COMMUNE) -> None:
    request_poll(hub.db, "motcua-quangnam", unit, reason="test")
    hub.drain()


def transferred(
    hub: Hub, n: int, *, district_status: int = 4, district_step: str = "Tiếp nhận hồ sơ liên thông"
) -> str:
    """Commune dossier ``n``, received (2) and transferred (4 at the commune) to the district, whose copy says
    ``district_status`` after ``district_step``; returns its code."""
    code = dossier_code(COMMUNE, n)
    p2 = progress(2, T0, "Tiếp nhận")
    step = progress(district_status, T0 + timedelta(hours=1), district_step, DISTRICT)
    put(hub, COMMUNE, record(code, version=1, status=4, processing_unit=DISTRICT, steps=[p2]))
    district = record(code, unit=COMMUNE, status=district_status, processing_unit=DISTRICT, steps=[p2, step])
    put(hub, DISTRICT, district)
    return code


def record_at(hub: Hub, unit: str, code: str, entry: dict[str, Any], *, status: int | None = None) -> None:
    """``unit``'s copy records a progress ``entry`` (and ``status``, when given) as a new revision of its own."""
    copy = hub.source.get_dossier(unit, code)
    copy["DanhSachTienDo"]["TienDo"].append(entry)
    copy.update(PhienBan=copy["PhienBan"] + 1, NgayCapNhat=entry["ThoiDiem"])
    if status is not None:
        copy["TrangThai"] = status
    put(hub, unit, copy)


def test_new_dossiers_reach_the_portal_once_with_their_progress(hub: Hub) -> None:
    codes = [dossier_code(COMMUNE, n) for n in (1, 2, 3)]
    for code in codes:
        put(hub, COMMUNE, record(code))

    poll(hub)

    for code in codes:
        pushed = hub.portal.lookup(COMMUNE, code)
        assert pushed is not None
        assert pushed["MaHoSo"] == code
        assert pushed["MaTTHC"] == "1.001193"
        assert pushed["TrangThaiHoSo"] in ("2", 2)
    assert pushes(hub.portal) == Counter(codes)
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery).where(Delivery.target == PORTAL)) == 3
        assert session.get(Watermark, ("motcua-quangnam", COMMUNE)) is not None
    states = {m.kind: m.state for m in hub.messages()}
    assert states == {"poll": "succeeded", "sync": "succeeded", "deliver": "succeeded"}


def test_polling_again_records_nothing_new_and_pushes_nothing(hub: Hub) -> None:
    put(hub, COMMUNE, record(dossier_code(COMMUNE, 1)))
    poll(hub)
    before = len(hub.messages())

    poll(hub)  # the overlap window reads the same change again

    assert len(hub.messages()) == before + 1  # only the second poll itself
    assert list(pushes(hub.portal).values()) == [1]


def test_a_redelivered_or_replayed_delivery_never_pushes_twice(hub: Hub) -> None:
    put(hub, COMMUNE, record(dossier_code(COMMUNE, 1)))
    poll(hub)
    [delivery] = hub.messages(kind="deliver")

    outbox.resend(hub.db, [delivery.id])  # the broker hands the same message out again
    replay.replay_message(hub.db, delivery.id, user="test")
    hub.drain()

    assert list(pushes(hub.portal).values()) == [1]
    replayed = hub.messages(replay_of=delivery.id)
    assert [m.state for m in replayed] == ["skipped"]
    assert replayed[0].result is not None and "already delivered" in replayed[0].result["reason"]


def test_an_older_revision_arriving_late_changes_nothing(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    put(hub, COMMUNE, record(code, version=1))
    put(hub, COMMUNE, record(code, version=2, status=4, steps=[progress(4, T0 + timedelta(hours=1), "Xử lý")]))
    poll(hub)
    stored_status = hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]  # type: ignore[index]

    # the change feed delivers revision 1 again, out of order
    hub.source.put(COMMUNE, record(code, version=1), updated_at=T0 + timedelta(hours=2))
    poll(hub)

    assert hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"] == stored_status  # type: ignore[index]
    with hub.db.session() as session:
        assert session.get(Dossier, code).status == 4  # type: ignore[union-attr]
    # the late sync compares the copy's own revisions (1 against 2), not the hub's revision of the dossier
    late = hub.messages(kind="sync")[-1]
    assert late.state == MessageState.SKIPPED.value
    assert late.result is not None
    assert "copy revision 1 at motcua-quangnam:20965 not newer than 2" in late.result["reason"]


def test_a_status_regression_is_refused_but_supplement_rounds_are_not(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    steps = [progress(2, T0, "Tiếp nhận")]
    for version, status in enumerate([4, 5, 4, 10, 4], start=1):
        steps = [*steps, progress(status, T0 + timedelta(hours=version), f"bước {version}")]
        put(hub, COMMUNE, record(code, version=version, status=status, steps=steps))
        poll(hub)

    syncs = hub.messages(kind="sync")
    assert [m.state for m in syncs] == ["succeeded", "succeeded", "succeeded", "succeeded", "skipped"]
    assert "status regression refused" in syncs[-1].result["reason"]  # type: ignore[index]
    with hub.db.session() as session:
        assert session.get(Dossier, code).status == 10  # type: ignore[union-attr]
    assert str(hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]) == "10"  # type: ignore[index]


def test_a_district_decision_reaches_the_commune_that_received_the_dossier(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    # the commune transfers the dossier to the district (liên thông) ...
    put(hub, COMMUNE, record(code, version=2, status=4, processing_unit=DISTRICT))
    poll(hub, COMMUNE)
    # ... whose own copy then records the decision
    decided = [progress(2, T0, "Tiếp nhận"), progress(9, T0 + timedelta(days=1), "Đã xử lý xong", DISTRICT)]
    put(hub, DISTRICT, record(code, unit=COMMUNE, version=3, status=9, processing_unit=DISTRICT, steps=decided))
    poll(hub, DISTRICT)

    to_commune = hub.messages(kind="deliver", target=f"motcua-quangnam:{COMMUNE}")
    assert [m.state for m in to_commune] == ["succeeded"]
    update = hub.source.pushed[code]
    assert update["TrangThai"] == 9
    assert update["MaDonVi"] == COMMUNE
    assert str(hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]) == "9"  # type: ignore[index]


class PermissiveOneStopShop:
    """A one-stop-shop whose unit copies the hub both reads and updates, and which takes any status an update
    carries (it checks no stage, as a vendor may not): its updated copies enter its change feed again."""

    def __init__(self, fake: FakeConnector) -> None:
        self.fake = fake

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)

    def lookup(self, unit_code: str, dossier_code: str) -> dict[str, Any] | None:
        try:
            return self.fake.get_dossier(unit_code, dossier_code)
        except RemoteRejected:
            return None

    def push_dossiers(self, unit_code: str, records: Any, *, existing: Any = None) -> list[PushResult]:
        for update in records:
            copy = self.fake.get_dossier(unit_code, update["MaHoSo"])
            steps = copy["DanhSachTienDo"]["TienDo"]
            known = {(e["ThoiDiem"], e["NoiDung"]) for e in steps}
            steps += [e for e in update["DanhSachTienDo"]["TienDo"] if (e["ThoiDiem"], e["NoiDung"]) not in known]
            changed = copy["NgayCapNhat"] + timedelta(minutes=1)
            copy.update(TrangThai=update["TrangThai"], PhienBan=copy["PhienBan"] + 1, NgayCapNhat=changed)
            self.fake.put(unit_code, copy, updated_at=changed)
        return [PushResult(str(r["MaHoSo"]), created=False) for r in records]


def test_a_receivers_lagging_status_never_undoes_the_processing_units_newer_decision(db: Database) -> None:
    with running_hub(db, source_over=PermissiveOneStopShop) as hub:
        # Given a dossier the commune transferred to the district (both copies at 4), where the district has just
        # asked for a supplement (5), which the hub has not synced yet
        code = transferred(hub, 1)
        record_at(hub, DISTRICT, code, progress(5, T0 + timedelta(hours=2), "Yêu cầu bổ sung", DISTRICT), status=5)

        # When the hub syncs the commune's copy first, and delivers it to the district's copy
        poll(hub, COMMUNE)

        # Then the district's copy still says 5: the hub did not send it the commune's older 4
        assert hub.source.get_dossier(DISTRICT, code)["TrangThai"] == 5
        [to_district] = hub.messages(kind="deliver", target=f"motcua-quangnam:{DISTRICT}")
        assert to_district.state == MessageState.SUCCEEDED.value
        assert to_district.result is not None and to_district.result["kept_owners_status"] == 5
        # and once the district's copy is synced, the portal and the commune's copy say 5 too
        poll(hub, DISTRICT)
        assert str(hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]) == "5"  # type: ignore[index]
        assert hub.source.get_dossier(COMMUNE, code)["TrangThai"] == 5
        assert hub.source.get_dossier(DISTRICT, code)["TrangThai"] == 5


def test_a_receivers_note_on_a_synced_dossier_reaches_the_processing_unit_without_its_old_status(db: Database) -> None:
    with running_hub(db, source_over=PermissiveOneStopShop) as hub:
        # Given a transferred dossier the hub has synced from both copies, at 4
        code = transferred(hub, 4)
        poll(hub, COMMUNE)
        poll(hub, DISTRICT)
        # and the district then asks for a supplement (5), not synced yet
        record_at(hub, DISTRICT, code, progress(5, T0 + timedelta(hours=3), "Yêu cầu bổ sung", DISTRICT), status=5)

        # When the commune records a note of its own, which the hub stores at 4 and delivers to the district
        record_at(hub, COMMUNE, code, progress(4, T0 + timedelta(hours=4), "Công dân hỏi tiến độ qua điện thoại"))
        poll(hub, COMMUNE)

        # Then the district has the note, and still its own 5
        district = hub.source.get_dossier(DISTRICT, code)
        assert district["TrangThai"] == 5
        assert "Công dân hỏi tiến độ qua điện thoại" in [e["NoiDung"] for e in district["DanhSachTienDo"]["TienDo"]]
        # and the integration log shows the update as sent: with the district's 5, not the stored 4
        last = hub.messages(kind="deliver", target=f"motcua-quangnam:{DISTRICT}")[-1]
        assert last.result is not None and last.result["kept_owners_status"] == 5
        with hub.db.session() as session:
            [sent] = session.scalars(select(Attempt.request).where(Attempt.message_id == last.id))
        assert [r["record"]["TrangThai"] for r in sent["batch"]] == [5]


def test_a_processing_units_copy_with_an_unreadable_status_parks_the_delivery_at_once(db: Database) -> None:
    with running_hub(db, source_over=PermissiveOneStopShop) as hub:
        code = dossier_code(COMMUNE, 3)
        put(hub, COMMUNE, record(code, version=1, status=4, processing_unit=DISTRICT))
        garbage = record(code, unit=COMMUNE, version=1, status=4, processing_unit=DISTRICT)
        put(hub, DISTRICT, {**garbage, "TrangThai": "ĐANG_XEM_XÉT"})

        poll(hub, COMMUNE)

        [to_district] = hub.messages(kind="deliver", target=f"motcua-quangnam:{DISTRICT}")
        assert to_district.state == MessageState.PARKED.value
        assert to_district.error_class == "validation_failed"
        assert code in (to_district.error_message or "") and "TrangThai" in (to_district.error_message or "")
        assert to_district.attempts == 1
        assert hub.source.get_dossier(DISTRICT, code)["TrangThai"] == "ĐANG_XEM_XÉT"  # nothing was sent


def test_a_later_stage_decided_at_the_receiving_counter_reaches_the_processing_unit(db: Database) -> None:
    with running_hub(db, source_over=PermissiveOneStopShop) as hub:
        # Given a dossier the district finished (9), the hub has synced both copies
        code = transferred(hub, 2, district_status=9, district_step="Đã xử lý xong")
        poll(hub, COMMUNE)
        poll(hub, DISTRICT)
        assert hub.source.get_dossier(COMMUNE, code)["TrangThai"] == 9

        # When the commune hands the result to the citizen (10)
        record_at(hub, COMMUNE, code, progress(10, T0 + timedelta(days=2), "Đã trả kết quả"), status=10)
        poll(hub, COMMUNE)

        # Then the district's copy and the portal say 10, the commune's decision sent as it is
        assert hub.source.get_dossier(DISTRICT, code)["TrangThai"] == 10
        last = hub.messages(kind="deliver", target=f"motcua-quangnam:{DISTRICT}")[-1]
        assert last.result is not None and "kept_owners_status" not in last.result
        assert str(hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]) == "10"  # type: ignore[index]


def test_a_missing_national_code_parks_then_fix_and_replay_succeeds(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 7)
    put(hub, COMMUNE, record(code, procedure="NT-DD-042"))
    poll(hub)

    [parked] = hub.messages(kind="deliver", target=PORTAL)
    assert parked.state == MessageState.PARKED.value
    assert parked.error_class == "mapping_missing"
    assert code in (parked.error_message or "") and "NT-DD-042" in (parked.error_message or "")

    procedures.set_mapping(hub.db, "NT-DD-042", "1.004227", user="operator")
    new_id = replay.replay_message(hub.db, parked.id, user="operator")
    hub.drain()

    [again] = hub.messages(id=new_id)
    assert again.state == MessageState.SUCCEEDED.value
    assert again.replay_of == parked.id
    assert hub.messages(id=parked.id)[0].state == MessageState.REPLAYED.value
    assert hub.portal.lookup(COMMUNE, code)["MaTTHC"] == "1.004227"  # type: ignore[index]


def test_replaying_a_replayed_message_again_points_at_its_replay_and_creates_nothing(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 8)
    put(hub, COMMUNE, record(code, procedure="NT-DD-042"))
    poll(hub)
    [parked] = hub.messages(kind="deliver", target=PORTAL)
    # Given a parked delivery replayed once (still unmapped: its replay parks again)
    first = replay.replay_message(hub.db, parked.id, user="operator")
    hub.drain()

    # When an operator replays the original again (a second click, a stale page)
    with pytest.raises(replay.AlreadyReplayed, match=rf"đã được gửi lại thành thông điệp {first}\b"):
        replay.replay_message(hub.db, parked.id, user="operator")
    hub.drain()

    # Then the dossier has one delivery per replay asked of a message that still needed one, not two
    assert [m.id for m in hub.messages(kind="deliver", target=PORTAL)] == [parked.id, first]
    # and a job over replayed messages takes none of them again
    job = replay.create_job(hub.db, replay.ReplayFilter(state=MessageState.REPLAYED.value), user="operator")
    replay.start_job(hub.db, job, user="operator")
    replay.run_job(hub.db, job)
    hub.drain()
    assert [m.id for m in hub.messages(kind="deliver", target=PORTAL)] == [parked.id, first]


def test_retryable_errors_are_retried_with_attempts_recorded(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    hub.portal.fail("push_dossiers", RemoteUnavailable("503 Service Unavailable", status_code=503))
    hub.portal.fail("push_dossiers", RemoteUnavailable("connection reset"))
    put(hub, COMMUNE, record(code))

    poll(hub)

    [delivery] = hub.messages(kind="deliver")
    assert delivery.state == MessageState.SUCCEEDED.value
    with hub.db.session() as session:
        outcomes = list(
            session.scalars(select(Attempt.outcome).where(Attempt.message_id == delivery.id).order_by(Attempt.number))
        )
    assert outcomes == ["retrying", "retrying", "succeeded"]


def test_permanent_remote_rejection_is_parked_with_the_remote_message_verbatim(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    message = "Mã thủ tục hành chính không tồn tại trong CSDL quốc gia"
    hub.portal.fail("push_dossiers", RemoteRejected("portal refused", remote_message=message), dossier_code=code)
    put(hub, COMMUNE, record(code))

    poll(hub)

    [delivery] = hub.messages(kind="deliver")
    assert delivery.state == MessageState.PARKED.value
    assert delivery.remote_message == message
    assert delivery.attempts == 1


def test_pausing_the_portal_holds_deliveries_and_resuming_loses_none(hub: Hub) -> None:
    control.pause_target(hub.db, PORTAL, reason="bảo trì cổng", user="operator")
    for n in (1, 2):
        put(hub, COMMUNE, record(dossier_code(COMMUNE, n)))
    poll(hub)
    assert {m.state for m in hub.messages(kind="deliver")} == {MessageState.HELD.value}
    assert pushes(hub.portal) == Counter()

    assert control.resume_target(hub.db, PORTAL, user="operator") == 2
    hub.drain()

    assert {m.state for m in hub.messages(kind="deliver")} == {MessageState.SUCCEEDED.value}
    assert sorted(pushes(hub.portal).values()) == [1, 1]


def test_the_reconciler_resends_what_the_broker_lost(hub: Hub) -> None:
    put(hub, COMMUNE, record(dossier_code(COMMUNE, 1)))
    with hub.db.session() as session:  # written and marked queued, but the broker never got it (Redis flushed)
        lost = outbox.record(session, kind="poll", payload={"system": "motcua-quangnam", "unit_code": COMMUNE})
        lost.state = MessageState.QUEUED.value
    assert hub.messages(id=lost.id)[0].state == MessageState.QUEUED.value

    result = reconcile(hub.db, after_seconds=0)
    hub.drain()

    assert result.stale >= 1
    assert hub.messages(id=lost.id)[0].state == MessageState.SUCCEEDED.value
    assert list(pushes(hub.portal).values()) == [1]


def test_bulk_replay_counts_first_then_runs_pauses_and_cancels(hub: Hub) -> None:
    for n in range(1, 6):
        put(hub, COMMUNE, record(dossier_code(COMMUNE, n), procedure="NT-XX-999"))
    poll(hub)
    flt = replay.ReplayFilter(target=PORTAL, error_class="mapping_missing")
    assert replay.count(hub.db, flt) == 5

    job = replay.create_job(hub.db, flt, user="operator")
    assert replay.job_progress(hub.db, job)["state"] == "counted"
    procedures.set_mapping(hub.db, "NT-XX-999", "2.000123", user="operator")
    replay.start_job(hub.db, job, user="operator")
    replay.run_job(hub.db, job, batch=2, max_batches=1)
    replay.pause_job(hub.db, job, user="operator")
    assert replay.run_job(hub.db, job, batch=2)["done"] == 2  # paused: nothing more runs

    replay.start_job(hub.db, job, user="operator")
    replay.run_job(hub.db, job, batch=2, max_batches=1)
    replay.cancel_job(hub.db, job, user="operator")
    progress = replay.run_job(hub.db, job, batch=2)
    hub.drain()

    assert progress["state"] == "cancelled"
    assert progress["done"] == 4
    assert len(pushes(hub.portal)) == 4  # the fifth was never replayed
    assert replay.count(hub.db, flt) == 1


def test_portal_deliveries_travel_in_batches_and_a_refused_one_is_parked_on_its_own(hub: Hub) -> None:
    # Given thirty deliveries waiting for the portal at once (held during a pause, then resumed together)
    codes = [dossier_code(COMMUNE, n) for n in range(1, 31)]
    refused = codes[7]
    reason = "Trường NgayHenTra không hợp lệ"
    # (a portal that refuses it every time: each push of it consumes one of these)
    hub.portal.fail(
        "push_dossiers", *[RemoteRejected("portal refused", remote_message=reason)] * 30, dossier_code=refused
    )
    control.pause_target(hub.db, PORTAL, reason="test", user="test")
    for code in codes:
        put(hub, COMMUNE, record(code))
    poll(hub)

    # When the portal is resumed
    control.resume_target(hub.db, PORTAL, user="test")
    hub.drain()

    # Then they go in batches, every accepted dossier once, and only the refused one is parked, with its reason;
    # it was pushed at most twice: in a batch it followed, then alone by its own message (never in a third batch)
    batches = [c.dossier_codes for c in hub.portal.calls if c.operation == "push_dossiers"]
    assert max(len(b) for b in batches) > 1
    counts = pushes(hub.portal)
    assert all(counts[code] == 1 for code in codes if code != refused)
    assert 1 <= counts[refused] <= 2
    states = {m.dossier_code: m.state for m in hub.messages(kind="deliver", target=PORTAL)}
    assert states.pop(refused) == MessageState.PARKED.value
    assert set(states.values()) == {MessageState.SUCCEEDED.value}
    [parked] = hub.messages(kind="deliver", dossier_code=refused)
    assert parked.remote_message == reason


def test_every_try_is_in_the_log_with_what_was_sent_and_a_redacted_copy(hub: Hub) -> None:
    code = dossier_code(COMMUNE, 1)
    put(hub, COMMUNE, record(code, version=2, status=4, processing_unit=DISTRICT))
    poll(hub, COMMUNE)
    decided = [progress(2, T0, "Tiếp nhận"), progress(9, T0 + timedelta(days=1), "Đã xử lý xong", DISTRICT)]
    put(hub, DISTRICT, record(code, unit=COMMUNE, version=3, status=9, processing_unit=DISTRICT, steps=decided))
    poll(hub, DISTRICT)

    deliveries = hub.messages(kind="deliver")
    with hub.db.session() as session:
        tries = {a.message_id: a for a in session.scalars(select(Attempt))}
    # the status update to the commune carries dates: they are kept as text, nothing is lost
    for message in deliveries:
        assert message.id in tries, message.target
        attempt = tries[message.id]
        assert attempt.request is not None and attempt.request_redacted is not None
    portal_try = tries[next(m.id for m in deliveries if m.target == PORTAL and m.dossier_version == 1)]
    sent = portal_try.request["batch"][0]["record"]  # type: ignore[index]
    hidden = portal_try.request_redacted["batch"][0]["record"]  # type: ignore[index]
    assert sent["ChuHoSo"] == "Nguyễn Văn An" and hidden["ChuHoSo"] == "***"
    assert hidden["SoGiayToChuHoSo"] == "***" and hidden["MaHoSo"] == code


def test_a_backlog_still_in_the_broker_is_not_sent_again_but_a_lost_one_is(hub: Hub) -> None:
    # Given three polls the log shows queued for long, never handed to the broker
    with hub.db.session() as session:
        lost = [
            outbox.record(session, kind="poll", payload={"system": "motcua-quangnam", "unit_code": COMMUNE})
            for _ in range(3)
        ]
    ids = [m.id for m in lost]

    # When the broker says its poll queue holds as many messages as the log expects, they are left alone
    assert reconcile(hub.db, after_seconds=0, queue_depth=lambda queue: 3 if queue == "poll" else 0).stale == 0
    assert {m.state for m in hub.messages(kind="poll")} == {MessageState.QUEUED.value}

    # and when the queue turns out empty (Redis restarted), they are sent again and run
    assert reconcile(hub.db, after_seconds=0, queue_depth=lambda queue: 0).stale == 3
    hub.drain()
    assert [m.state for m in hub.messages(kind="poll")] == [MessageState.SUCCEEDED.value] * 3
    assert sorted(m.id for m in hub.messages(kind="poll")) == sorted(ids)


def test_two_polls_of_one_unit_never_run_at_once_so_each_change_is_recorded_once(hub: Hub) -> None:
    # Given changes in a unit, and a second poll of the unit asked for while the first is still reading the feed
    for n in range(1, 6):
        put(hub, COMMUNE, record(dossier_code(COMMUNE, n)))
    reading, overlapped = threading.Event(), threading.Event()
    reads: list[int] = []

    def slow_feed(operation: str, unit: str, code: str | None) -> None:
        if operation != "fetch_changes":
            return
        reads.append(len(reads) + 1)
        if len(reads) == 1:
            reading.set()
            request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="operator")
            overlapped.wait(timeout=1.5)  # a second poll free to run comes in within milliseconds
            reading.clear()
        elif reading.is_set():
            overlapped.set()

    hub.source.failures = slow_feed
    # When both run
    request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="schedule")
    hub.drain()

    # Then the second read the feed only after the first had finished, and each change has one sync message
    assert not overlapped.is_set()
    assert len(reads) >= 2
    assert Counter(m.dossier_code for m in hub.messages(kind="sync")) == {
        dossier_code(COMMUNE, n): 1 for n in range(1, 6)
    }
    assert [m.state for m in hub.messages(kind="poll")] == [MessageState.SUCCEEDED.value] * 2


def test_a_transferred_dossiers_status_comes_from_its_processing_unit_whatever_the_receivers_copy_says(
    hub: Hub,
) -> None:
    # Given a dossier the commune received and the district processes: a payment round (4 -> 6 -> 4) at the district
    code = dossier_code(COMMUNE, 1)
    p2 = progress(2, T0, "Tiếp nhận")
    p6 = progress(6, T0 + timedelta(days=1), "Thông báo nghĩa vụ tài chính", DISTRICT)
    p4 = progress(4, T0 + timedelta(days=2), "Đã hoàn thành nghĩa vụ tài chính", DISTRICT)
    put(hub, COMMUNE, record(code, version=1, status=4, processing_unit=DISTRICT, steps=[p2]))
    poll(hub, COMMUNE)
    put(hub, DISTRICT, record(code, version=2, status=6, processing_unit=DISTRICT, steps=[p2, p6]))
    poll(hub, DISTRICT)
    put(hub, DISTRICT, record(code, version=3, status=4, processing_unit=DISTRICT, steps=[p2, p6, p4]))
    poll(hub, DISTRICT)

    # When the commune's copy changes late, still saying 6 (it had not heard of the payment), with a note of its own
    note = progress(6, T0 + timedelta(days=1, hours=2), "Đã báo công dân nộp phí", COMMUNE)
    put(hub, COMMUNE, record(code, version=4, status=6, processing_unit=DISTRICT, steps=[p2, p6, note]))
    poll(hub, COMMUNE)

    # Then the hub and the portal keep the district's status, and the commune's note is kept too
    with hub.db.session() as session:
        row = session.get(Dossier, code)
        assert row is not None
        assert row.status == 4
        kept = [entry["content"] for entry in row.data["progress"]]
    assert "Đã báo công dân nộp phí" in kept
    assert str(hub.portal.lookup(COMMUNE, code)["TrangThaiHoSo"]) == "4"  # type: ignore[index]


def test_a_delivery_whose_dossier_is_being_delivered_elsewhere_comes_back_without_a_failure_line(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch's followers meet a held claim every few seconds: it is no failure, and the worker must not log it as
    one ("Failed to process message … ClaimedElsewhere" at info is what an operator reads as an error)."""
    code = dossier_code(COMMUNE, 1)
    put(hub, COMMUNE, record(code))
    caplog.set_level(logging.DEBUG, logger="dramatiq")
    # Given another worker delivering the dossier (its lock held) when its delivery message arrives
    with dossier_mutex(f"deliver:{code}:{PORTAL}", lease_seconds=60).acquire():
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        eventually(
            lambda: any("ClaimedElsewhere" in r.getMessage() or "Rate limit" in r.getMessage() for r in caplog.records),
            timeout=20,
            what="the delivery met the held lock",
        )
    # When the lock is free again, the message comes back and delivers
    hub.drain()

    # Then it was delivered once, and no worker line at info or above called the meeting a failure
    assert list(pushes(hub.portal).values()) == [1]
    loud = [r.getMessage() for r in caplog.records if r.name.startswith("dramatiq") and r.levelno >= logging.INFO]
    assert [line for line in loud if "ClaimedElsewhere" in line or "Failed to process" in line] == []


def test_a_bulk_replays_dry_run_says_by_cause_how_many_will_park_again(hub: Hub) -> None:
    # Given deliveries parked for two unmapped procedures, one of which has been mapped since
    for n, procedure in enumerate(["NT-DD-042", "NT-DD-042", "NT-XVH-004"], start=1):
        put(hub, COMMUNE, record(dossier_code(COMMUNE, 20 + n), procedure=procedure))
    poll(hub)
    procedures.set_mapping(hub.db, "NT-XVH-004", "1.003767", user="operator")

    # When an operator previews a bulk replay of what is parked
    causes = replay.causes(hub.db, replay.ReplayFilter(target=PORTAL))

    # Then the preview says three will be replayed and two of them will park again for the same cause
    assert causes == [replay.Cause("mapping_missing", 3, again=2)]
