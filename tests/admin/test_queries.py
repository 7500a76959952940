"""The console's reads: keyset pages that stay stable, today by default, exact codes across all time, diffs."""

from __future__ import annotations

from datetime import timedelta

from console.queries import SearchFilter, diff, search, timeline
from foundation.clock import utcnow
from hub.store.db import Database
from hub.store.models import Message
from tests.admin import seed


def add(db: Database, n: int, *, code: str = "000.01.17.H47-240304-0009", age: timedelta = timedelta(0)) -> None:
    with db.session() as session:
        for _ in range(n):
            session.add(
                Message(
                    kind="deliver",
                    actor="deliver_dossier",
                    state="succeeded",
                    dossier_code=code,
                    target="dvcqg",
                    created_at=utcnow() - age,
                )
            )


def test_pages_stay_stable_while_new_messages_arrive(db: Database) -> None:
    add(db, 25)
    with db.session() as session:
        first = search(session, SearchFilter(target="dvcqg", limit=10), personal=True)
    add(db, 7)  # new traffic between two clicks on "older"
    with db.session() as session:
        second = search(session, SearchFilter(target="dvcqg", limit=10, before_id=first.next_before_id), personal=True)
        third = search(session, SearchFilter(target="dvcqg", limit=10, before_id=second.next_before_id), personal=True)
    ids = [r.id for r in first.rows + second.rows + third.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 25
    assert third.next_before_id is None


def test_other_filters_search_today_but_an_exact_code_searches_all_time(db: Database) -> None:
    code = "000.01.17.H47-230101-0001"
    add(db, 1, code=code, age=timedelta(days=400))
    with db.session() as session:
        assert search(session, SearchFilter(target="dvcqg"), personal=True).rows == []
        assert [r.dossier_code for r in search(session, SearchFilter(dossier_code=code), personal=True).rows] == [code]


def test_the_timeline_redacts_personal_data_for_viewers_even_in_the_diff(db: Database) -> None:
    seed.log(db)
    with db.session() as session:
        viewer = timeline(session, seed.CODE, personal=False)
        operator = timeline(session, seed.CODE, personal=True)
    assert viewer is not None and operator is not None
    assert seed.APPLICANT not in repr(viewer) and seed.ID_NUMBER not in repr(viewer)
    assert seed.APPLICANT in repr(operator)
    assert [c.path for c in operator.versions[1].changes] == ["status", "summary"]


def test_diff_names_the_changed_leaves_with_their_paths() -> None:
    old = {"a": 1, "files": [{"name": "x"}], "gone": True}
    new = {"a": 2, "files": [{"name": "x"}, {"name": "y"}]}
    assert [(c.path, c.old, c.new) for c in diff(old, new)] == [
        ("a", 1, 2),
        ("files[1]", None, {"name": "y"}),
        ("gone", True, None),
    ]
