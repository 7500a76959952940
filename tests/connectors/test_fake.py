"""The in-memory connector the hub's tests run against behaves like a source and a target."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from connectors.base import ChangeRef, Source, Target
from connectors.errors import RemoteRejected, RemoteUnavailable
from foundation.clock import VN_TZ
from systems.fake.connector import FakeConnector

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=VN_TZ)


def _dossier(n: int, status: str = "2") -> dict[str, str]:
    return {"MaHoSo": f"000.00.17.H47-240301-{n:04d}", "TrangThaiHoSo": status}


def test_it_is_both_a_source_and_a_target() -> None:
    fake = FakeConnector()
    assert isinstance(fake, Source)
    assert isinstance(fake, Target)


def test_change_feed_pages_oldest_first_with_the_latest_version() -> None:
    fake = FakeConnector(page_size=2)
    for n in range(1, 6):
        fake.put("517", _dossier(n), updated_at=T0 + timedelta(minutes=n))
    fake.put("517", _dossier(1, "4"), updated_at=T0 + timedelta(minutes=10))
    fake.put("20965", _dossier(9), updated_at=T0)

    seen: list[ChangeRef] = []
    token = None
    pages = 0
    while True:
        page = fake.fetch_changes("517", T0 + timedelta(minutes=2), token)
        pages += 1
        seen.extend(page.items)
        token = page.next_token
        if token is None:
            break
    assert pages == 3
    assert [r.dossier_code[-4:] for r in seen] == ["0002", "0003", "0004", "0005", "0001"]
    assert seen[-1].version == 2
    assert fake.get_dossier("517", seen[-1].dossier_code)["TrangThaiHoSo"] == "4"


def test_get_dossier_returns_a_copy_and_refuses_unknown_codes() -> None:
    fake = FakeConnector()
    fake.put("517", _dossier(1))
    record = fake.get_dossier("517", _dossier(1)["MaHoSo"])
    record["TrangThaiHoSo"] = "10"
    assert fake.get_dossier("517", _dossier(1)["MaHoSo"])["TrangThaiHoSo"] == "2"
    with pytest.raises(RemoteRejected):
        fake.get_dossier("20965", _dossier(1)["MaHoSo"])


def test_pushes_upsert_and_count_every_delivery_of_the_same_record() -> None:
    fake = FakeConnector()
    first = fake.push_dossiers("517", [_dossier(1), _dossier(2)])
    again = fake.push_dossiers("517", [_dossier(1)])
    assert [r.created for r in first] == [True, True]
    assert [r.created for r in again] == [False]
    assert fake.push_count(_dossier(1)["MaHoSo"], _dossier(1)) == 2
    assert fake.push_count(_dossier(1)["MaHoSo"], _dossier(1, "4")) == 0
    assert fake.lookup("517", _dossier(2)["MaHoSo"]) == _dossier(2)
    assert fake.lookup("517", _dossier(3)["MaHoSo"]) is None


def test_progress_is_appended_in_chunks_of_ten() -> None:
    fake = FakeConnector()
    code = _dossier(1)["MaHoSo"]
    entries = [{"MaHoSo": code, "NoiDungXuLy": f"bước {i}"} for i in range(23)]
    results = fake.push_progress("517", entries)
    assert all(r.ok for r in results)
    assert len(fake.progress(code)) == 23
    assert [len(c.dossier_codes) for c in fake.calls if c.operation == "push_progress"] == [10, 10, 3]


def test_queued_failures_raise_per_call_and_report_per_dossier() -> None:
    fake = FakeConnector()
    fake.fail("push_dossiers", RemoteUnavailable("down"))
    fake.fail(
        "push_dossiers",
        RemoteRejected("refused", remote_message="Mã TTHC không tồn tại"),
        dossier_code=_dossier(2)["MaHoSo"],
    )
    with pytest.raises(RemoteUnavailable):
        fake.push_dossiers("517", [_dossier(1)])
    results = fake.push_dossiers("517", [_dossier(1), _dossier(2)])
    assert results[0].ok
    assert isinstance(results[1].error, RemoteRejected)
    assert fake.push_dossiers("517", [_dossier(2)])[0].ok


def test_a_failure_hook_decides_per_operation_and_dossier() -> None:
    def hook(operation: str, unit: str, code: str | None) -> RemoteUnavailable | None:
        return RemoteUnavailable("portal down") if operation == "lookup" and code else None

    fake = FakeConnector(failures=hook)
    with pytest.raises(RemoteUnavailable):
        fake.lookup("517", "x")
    assert fake.health().ok


def test_concurrent_pushes_are_all_counted() -> None:
    fake = FakeConnector()

    def push() -> None:
        for _ in range(200):
            fake.push_dossiers("517", [_dossier(1)])

    threads = [threading.Thread(target=push) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake.push_count(_dossier(1)["MaHoSo"]) == 1600
