"""The one-stop-shop's data store: each unit's copy of each dossier, its change feed, and the hub's updates.

Each unit's system keeps its own copy of a dossier. A dossier a commune transfers to the district (liên thông) has
two copies: the district processes its own, and the commune's stays "being processed by 517" until the hub brings
the district's decision back with :meth:`OneStopShop.apply_update` (the SOAP ``CapNhatTrangThaiHoSo``).

When units are merged (1 July 2025), :meth:`OneStopShop.merge` moves a retired unit's copies to its successor's
system, as the merger did: they keep their receiving unit and code, the successor's system files them in its own
change feed and answers for the old unit's code from then on.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from mappings.codes import Status
from simulators.records import HoSo, TienDo

FeedKey = tuple[datetime, str]  # (NgayCapNhat, MaHoSo): the change feed's order


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    applied: bool
    version: int
    added: int
    reason: str | None = None


class UnknownDossier(LookupError):
    """Raised when a unit's system holds no copy of the dossier."""


class OneStopShop:
    """Every unit's dossiers, indexed for the change feed; safe to use from the server and the engine threads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._copies: dict[str, dict[str, HoSo]] = {}
        self._feed: dict[str, list[FeedKey]] = {}
        self._keys: dict[str, dict[str, FeedKey]] = {}  # the feed key each copy is filed under now
        self._source_versions: dict[tuple[str, str], int] = {}
        self._merged: dict[str, str] = {}  # a retired unit's code → the unit whose system took its copies over

    def resolve(self, unit: str) -> str:
        """The unit whose copies answer for ``unit``: itself, or the successor a merger moved them to."""
        with self.lock:
            seen = 0
            while unit in self._merged and seen < 16:
                unit, seen = self._merged[unit], seen + 1
            return unit

    def merge(self, retired: str, successor: str) -> int:
        """Move every copy of ``retired`` to ``successor`` (unchanged, in its feed); returns how many moved."""
        with self.lock:
            target = self.resolve(successor)
            if target == retired:  # a new unit that reuses its predecessor's code: the copies stay where they are
                return len(self._copies.get(retired, {}))
            moved = list(self._copies.pop(retired, {}).values())
            self._feed.pop(retired, None)
            self._keys.pop(retired, None)
            for record in moved:
                version = self._source_versions.pop((retired, record.MaHoSo), None)
                if version is not None:
                    self._source_versions[(target, record.MaHoSo)] = version
                self.put(target, record)
            self._merged[retired] = target
            return len(moved)

    def put(self, unit: str, record: HoSo) -> None:
        """Store ``record`` as ``unit``'s copy (new or changed) and move it to the end of the unit's feed."""
        if record.NgayCapNhat is None:
            raise ValueError("a stored record needs NgayCapNhat")
        with self.lock:
            unit = self.resolve(unit)
            copies = self._copies.setdefault(unit, {})
            feed = self._feed.setdefault(unit, [])
            keys = self._keys.setdefault(unit, {})
            old_key = keys.get(record.MaHoSo)
            if old_key is not None:
                del feed[bisect.bisect_left(feed, old_key)]
            key = (record.NgayCapNhat, record.MaHoSo)
            copies[record.MaHoSo] = record
            keys[record.MaHoSo] = key
            bisect.insort(feed, key)

    def get(self, unit: str, code: str) -> HoSo:
        with self.lock:
            record = self._copies.get(self.resolve(unit), {}).get(code)
            if record is None:
                raise UnknownDossier(code)
            return record

    def has(self, unit: str, code: str) -> bool:
        with self.lock:
            return code in self._copies.get(self.resolve(unit), {})

    def units(self) -> list[str]:
        with self.lock:
            return sorted(self._copies)

    def records(self, unit: str) -> list[HoSo]:
        with self.lock:
            return list(self._copies.get(unit, {}).values())

    def count(self) -> int:
        with self.lock:
            return sum(len(c) for c in self._copies.values())

    def changes(
        self, unit: str, since: datetime, until: datetime | None, after: FeedKey | None, limit: int
    ) -> tuple[list[HoSo], FeedKey | None]:
        """Up to ``limit`` of the unit's records with ``since <= NgayCapNhat < until`` after key ``after``.

        Returns the records and the key to continue from (None when nothing is left).
        """
        with self.lock:
            unit = self.resolve(unit)
            feed = self._feed.get(unit, [])
            start = bisect.bisect_left(feed, (since, ""))
            if after is not None:
                start = max(start, bisect.bisect_right(feed, after))
            page: list[HoSo] = []
            i = start
            while i < len(feed) and len(page) < limit:
                key = feed[i]
                if until is not None and key[0] >= until:
                    break
                page.append(self._copies[unit][key[1]])
                i += 1
            more = i < len(feed) and (until is None or feed[i][0] < until)
            return page, (feed[i - 1] if page and more else None)

    def apply_update(
        self,
        unit: str,
        code: str,
        status: int,
        source_version: int,
        sender: str | None,
        entries: Iterable[TienDo],
        now: datetime,
        finished_at: datetime | None = None,
        returned_at: datetime | None = None,
    ) -> UpdateOutcome:
        """The hub's ``CapNhatTrangThaiHoSo``: append new progress, apply a status that does not regress."""
        with self.lock:
            unit = self.resolve(unit)
            record = self.get(unit, code).clone()
            seen_version = self._source_versions.get((unit, code), 0)
            if source_version < seen_version:
                return UpdateOutcome(
                    False,
                    record.PhienBan,
                    0,
                    f"phiên bản nguồn {source_version} cũ hơn {seen_version} đã nhận "
                    f"(source version older than one already applied)",
                )
            known = {e.identity() for e in record.DanhSachTienDo}
            added = 0
            for entry in entries:
                if entry.identity() not in known:
                    known.add(entry.identity())
                    record.DanhSachTienDo.append(entry)
                    added += 1
            record.DanhSachTienDo.sort(key=lambda e: e.ThoiDiem)
            reason = None
            changed = added > 0
            new, old = Status(status), Status(record.TrangThai)
            if new is not old:
                if new.may_follow(old):
                    record.TrangThai = new.value
                    changed = True
                else:
                    reason = (
                        f"trạng thái {new.value} không thể thay {old.value} (status {new.value} would regress "
                        f"{old.value})"
                    )
            if finished_at is not None and record.NgayKetThucXuLy != finished_at and reason is None:
                record.NgayKetThucXuLy, changed = finished_at, True
            if returned_at is not None and record.NgayTra != returned_at and reason is None:
                record.NgayTra, changed = returned_at, True
            if sender is not None and record.MaDonViXuLy is None and sender != unit:
                record.MaDonViXuLy, changed = sender, True
            if not changed:
                return UpdateOutcome(False, record.PhienBan, 0, reason or "không có gì thay đổi (nothing new)")
            self._source_versions[(unit, code)] = max(seen_version, source_version)
            record.PhienBan += 1
            record.NgayCapNhat = max(now, record.NgayCapNhat or now)
            self.put(unit, record)
            return UpdateOutcome(True, record.PhienBan, added, reason)
