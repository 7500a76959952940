"""How a change feed is paged, as small strategies the connectors share: a token the vendor returns, page numbers,
or time windows the hub chooses. Each says what to ask for and, from the page it got, what to ask for next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors.base import ChangeRef
from mappings.vendors import Paging as PagingConfig


@dataclass(frozen=True, slots=True)
class Ask:
    """What one page request carries, by role (the profile names the elements)."""

    since: datetime
    until: datetime | None = None
    token: str | None = None
    page: int | None = None


class Paging(Protocol):
    def ask(self, since: datetime, token: str | None, now: datetime) -> Ask:
        """The request for the page that ``token`` (None: the first) names."""
        ...

    def next(
        self, ask: Ask, refs: Sequence[ChangeRef], reported: Any, total_pages: Any, *, entries: int | None = None
    ) -> str | None:
        """The token of the page after ``ask``'s (whose readable entries are ``refs``), or None when ``ask`` was the
        last.

        ``reported``: the vendor's next-page token, ``total_pages``: its page count, each None when it gives none;
        ``entries``: how many entries the page held, unreadable ones included (default: ``len(refs)``).
        """
        ...


class TokenPaging:
    """The vendor returns an opaque token for the next page (none on the last)."""

    def ask(self, since: datetime, token: str | None, now: datetime) -> Ask:
        return Ask(since=since, token=token)

    def next(
        self, ask: Ask, refs: Sequence[ChangeRef], reported: Any, total_pages: Any, *, entries: int | None = None
    ) -> str | None:
        return str(reported) if reported not in (None, "") else None


class PagePaging:
    """Numbered pages of a feed ordered by change time, oldest first, from an inclusive ``since``.

    Page n of a feed that changes while it is read is not the page n it was: a record that changes moves to the end,
    every record after its old place moves up one, and the first record of the next page slips onto the page already
    read; the watermark then passes it and no later poll sees it. So a following page is asked from the newest change
    time already seen, from the first page again: a record that changes only moves later, never before that time.
    The records of that second come again and the hub drops what it has recorded. The page number moves on only
    when a whole page shares the time it was asked from (more changes in one second than a page holds). Another page
    follows while the vendor's page count says so, or while pages come back full.
    """

    def __init__(self, first: int, page_size: int) -> None:
        self.first = first
        self.page_size = page_size

    def ask(self, since: datetime, token: str | None, now: datetime) -> Ask:
        if not token:
            return Ask(since=since, page=self.first)
        page, _, start = token.partition("@")
        return Ask(since=datetime.fromisoformat(start), page=int(page))

    def next(
        self, ask: Ask, refs: Sequence[ChangeRef], reported: Any, total_pages: Any, *, entries: int | None = None
    ) -> str | None:
        page = ask.page if ask.page is not None else self.first
        # The vendor's page count when it gives one; a full page otherwise (an empty last page costs one call). A
        # page is full by what it held: an unreadable entry left out does not make it the last.
        known = total_pages not in (None, "")
        held = len(refs) if entries is None else entries
        more = page - self.first + 1 < int(total_pages) if known else held >= self.page_size
        if not (more and refs):
            return None
        newest = max(ref.updated_at for ref in refs)
        if newest > ask.since:
            return f"{self.first}@{newest.isoformat()}"
        return f"{page + 1}@{ask.since.isoformat()}"


class WindowPaging:
    """The vendor answers a time range in full; the hub walks from ``since`` to now in windows of fixed length."""

    def __init__(self, window: timedelta) -> None:
        self.window = window

    def ask(self, since: datetime, token: str | None, now: datetime) -> Ask:
        start = datetime.fromisoformat(token) if token else since
        return Ask(since=start, until=min(start + self.window, now))

    def next(
        self, ask: Ask, refs: Sequence[ChangeRef], reported: Any, total_pages: Any, *, entries: int | None = None
    ) -> str | None:
        end = ask.until
        # A window cut short by "now" was the last one.
        return end.isoformat() if end is not None and end >= ask.since + self.window else None


def paging_for(config: PagingConfig, page_size: int) -> Paging:
    """The strategy a vendor profile's ``paging`` names."""
    if config.style == "page":
        return PagePaging(config.first_page, page_size)
    if config.style == "window":
        return WindowPaging(timedelta(hours=config.window_hours))
    return TokenPaging()
