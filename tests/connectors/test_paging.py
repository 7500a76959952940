"""Paging a change feed by page numbers loses nothing when records change between two pages (issue 12).

The numbered-page vendor (Phương Nam's simulator) pages a feed ordered by change time: a record that changes while
the hub reads moves to the end, and every record after its old place moves up one page position.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import ChangeRef, Source
from connectors.paging import PagePaging
from foundation.clock import VN_TZ
from foundation.topology import Topology, load
from simulators.server import Simulators
from systems import registry
from tests.conftest import TOPOLOGIES

PAGE = 10
UNIT = "502"  # Tam Kỳ, served by the numbered-page vendor


@pytest.fixture
def sims(start_simulators: type[Simulators]) -> Iterator[Simulators]:
    with start_simulators(load(TOPOLOGIES / "quang-nam-2023-three-vendors.yaml"), seed=5, dossiers=400) as running:
        yield running


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_TAMKY_USERNAME", "hub")
    monkeypatch.setenv("DVC_HUB_CRED_MOTCUA_TAMKY_PASSWORD", "hub-secret")


def _source(sims: Simulators, tmp_path: Path) -> Source:
    topology: Topology = load(sims.topology_file(tmp_path / "topology.yaml"))
    system = topology.systems["motcua-tamky"]
    small_pages = system.model_copy(update={"options": {**system.options, "page_size": PAGE}})
    return registry.build_source(small_pages)


def _touch(sims: Simulators, code: str) -> None:
    """The vendor's user changes ``code`` now: a new revision, filed at the end of the feed."""
    record = sims.source_copy(UNIT, code)
    record.PhienBan += 1
    record.NgayCapNhat = sims.clock.advance(timedelta(minutes=1))
    sims.store.put(UNIT, record)


def test_a_record_changing_between_two_pages_makes_no_other_record_slip_past_the_reader(
    sims: Simulators, tmp_path: Path
) -> None:
    # Given a feed of several pages
    source = _source(sims, tmp_path)
    since = sims.now() - timedelta(days=60)
    in_feed = {r.MaHoSo for r in sims.store.records(UNIT) if r.NgayCapNhat and r.NgayCapNhat >= since}
    assert len(in_feed) > 3 * PAGE
    # When, after each page but the last is read, a record of that page changes (it moves to the end of the feed)
    seen: list[ChangeRef] = []
    token: str | None = None
    while True:
        page = source.fetch_changes(UNIT, since, token)
        seen.extend(page.items)
        token = page.next_token
        if token is None:
            break
        _touch(sims, page.items[0].dossier_code)
    # Then every record of the feed was read, and each changed one in its new revision too
    assert in_feed <= {r.dossier_code for r in seen}
    newest = {r.MaHoSo: r.PhienBan for r in sims.store.records(UNIT)}
    touched = {r.dossier_code for r in seen if r.version == newest[r.dossier_code]}
    assert touched == in_feed


def _ref(code: str, at: datetime) -> ChangeRef:
    return ChangeRef(dossier_code=code, updated_at=at, version=1)


def test_a_following_page_is_asked_from_the_newest_change_time_seen_from_the_first_page() -> None:
    paging = PagePaging(first=1, page_size=2)
    since = datetime(2023, 10, 2, 8, 0, tzinfo=VN_TZ)
    first = paging.ask(since, None, since)
    refs = [_ref("A", since + timedelta(minutes=1)), _ref("B", since + timedelta(minutes=5))]
    following = paging.ask(since, paging.next(first, refs, None, 3), since)
    assert (following.since, following.page) == (since + timedelta(minutes=5), 1)


def test_a_full_page_all_at_the_time_it_was_asked_from_moves_on_by_page_number() -> None:
    # more changes in one second than a page holds: asking from that second again would read the same page forever
    paging = PagePaging(first=1, page_size=2)
    since = datetime(2023, 10, 2, 8, 0, tzinfo=VN_TZ)
    first = paging.ask(since, None, since)
    second = paging.ask(since, paging.next(first, [_ref("A", since), _ref("B", since)], None, None), since)
    assert (second.since, second.page) == (since, 2)
    assert paging.next(second, [_ref("C", since)], None, None) is None  # a short page is the last


def test_the_vendors_page_count_ends_the_feed() -> None:
    paging = PagePaging(first=0, page_size=2)
    since = datetime(2023, 10, 2, 8, 0, tzinfo=VN_TZ)
    first = paging.ask(since, None, since)
    assert first.page == 0
    assert paging.next(first, [_ref("A", since), _ref("B", since + timedelta(seconds=1))], None, 1) is None
