"""The connector interface the hub depends on, and nothing more.

A *source* is a system the hub reads dossiers from (a unit's one-stop-shop software); a *target* is a system the
hub pushes dossiers and progress to (the national portal, or another level's one-stop-shop). Records cross this
boundary as plain dicts in the remote system's own schema: turning them into canonical dossiers is ``mappings/``'s
job. Every method raises only :mod:`hub.errors` exceptions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Self, runtime_checkable

from foundation.errors import HubError

RawRecord = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChangeRef:
    """One entry of a unit's change feed: which dossier changed, when, and to which revision; ``source_id`` is the
    platform's own id of the dossier when it is asked by that id (the hub stores and shows the dossier code)."""

    dossier_code: str
    updated_at: datetime
    version: int
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """A change-feed entry that cannot be read: its place on the page, its dossier code when that much is readable,
    the vendor's element at fault and what is wrong (an entry holds a code, a revision and a time: nothing personal)."""

    position: int
    dossier_code: str | None
    field_path: str
    message: str


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A page of the change feed; ``next_token`` is None on the last page. ``problems``: the entries left out
    because they cannot be read (one bad entry never holds back the rest of its unit's feed)."""

    items: Sequence[ChangeRef]
    next_token: str | None = None
    problems: Sequence[FeedProblem] = ()


@dataclass(frozen=True, slots=True)
class PushResult:
    """The outcome of one record in a batched push: ``error`` is None when the target accepted it."""

    dossier_code: str
    error: HubError | None = None
    created: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Health:
    """What a health check saw."""

    ok: bool
    latency_ms: float
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """A system the hub reads dossiers from."""

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage:
        """The unit's dossiers changed since ``since``, oldest first, one page at a time."""
        ...

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> RawRecord:
        """One dossier in full, in the source's own schema.

        ``seen``: the change-feed entry that announced this revision; a source whose records carry no change time
        or revision of their own takes them from it.
        """
        ...

    def health(self) -> Health: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


@runtime_checkable
class Target(Protocol):
    """A system the hub pushes dossiers and progress to."""

    def lookup(self, unit_code: str, dossier_code: str) -> RawRecord | None:
        """The target's copy of a dossier, or None when it has none."""
        ...

    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        """Create or update dossiers (idempotent upsert), batched as the target allows; one result per record.

        ``existing``: the codes the caller has just found at the target (``None``: not looked up); a connector that
        must choose between create and update uses it instead of looking each record up again.
        """
        ...

    def push_progress(self, unit_code: str, entries: Sequence[RawRecord]) -> list[PushResult]:
        """Append progress entries, chunked as the target requires; one result per entry."""
        ...

    def health(self) -> Health: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...
