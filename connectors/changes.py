"""What the profile-driven connectors (SOAP and JSON) share: one page of the change feed (asked as the profile's
paging says, entries read with the vendor's time converter), request bodies written in the vendor's value formats,
and the feed's facts handed to the record mapping.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from connectors.base import ChangePage, ChangeRef, FeedProblem, PushResult, RawRecord
from connectors.dataset import dataset_rows
from connectors.embedded import UnreadableText, parse_json_text, parse_xml_text
from connectors.errors import RemoteRejected, Resolution, UnreadableEntry, Verdict, to_error
from connectors.http import Endpoint
from connectors.paging import paging_for
from mappings.errors import ValidationFailed
from mappings.units import UnitIdentity
from mappings.vendors import ChangesResponse, RequestValue, VendorProfile, as_list, get_path, set_path, to_default

Call = Callable[[dict[str, Any]], Any]
"""One call of the feed operation: the request's elements in, the decoded answer out (hub errors only)."""

Read = Callable[[Any, str], Any]
"""The value at a dotted response path of an answer, as the transport decodes it."""


@runtime_checkable
class ProfiledSource(Protocol):
    """A source described by a vendor profile, which can also show a record as the vendor sent it (the probe)."""

    vendor: VendorProfile

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage: ...

    def raw_dossier(self, unit_code: str, dossier_code: str, *, source_id: str | None = None) -> Mapping[str, Any]:
        """The dossier in the vendor's own shape and names (asked by the platform's id when the feed gave one)."""
        ...

    def read_saved(self, payload: bytes) -> Mapping[str, Any]:
        """A saved answer of the dossier operation, read as :meth:`raw_dossier` reads a live one."""
        ...


class ProfileDrivenSource(ABC):
    """What both profile-driven connectors share: the change feed, a dossier asked as the profile's request says and
    reshaped into the default contract, and progress sent as status updates. A connector brings how it calls an
    operation, where an answer holds the record, and how it sends an update."""

    progress_carries_revision: ClassVar[bool] = False  # a progress update names the source revision too

    vendor: VendorProfile
    feed: ChangeFeed
    endpoint: Endpoint
    units: UnitIdentity = UnitIdentity()  # how the vendor names units; GSO codes unless the system says otherwise

    @property
    def system(self) -> str:
        return self.endpoint.system

    @abstractmethod
    def _operation(self, role: str, operation: str, body: Mapping[str, Any], *, dossier_code: str | None = None) -> Any:
        """Call ``operation`` (the profile's name for ``role``); every failure a hub error."""

    def _record(self, reply: Any, dossier_code: str | None) -> Mapping[str, Any]:
        """The dossier record an answer of the dossier operation holds, read as the feed reads its answers."""
        where = self.vendor.responses.dossier.record
        record = self.feed.read(reply, where.path)
        if isinstance(record, str) and (where.xml_string or where.json_string):
            record = self._record_in_text(record, dossier_code)
        if not isinstance(record, Mapping):
            said = "câu trả lời không có hồ sơ (no record in the answer)"
            if isinstance(record, str) and record.lstrip()[:1] in ("<", "{"):
                kind = "xml_string" if record.lstrip().startswith("<") else "json_string"
                said += f": {where.path} là văn bản (is text): responses.dossier.record.{kind}: true"
            raise to_error(
                Verdict(Resolution.PERMANENT, remote_message=said),
                system=self.system,
                operation=self.vendor.operations.dossier,
                dossier_code=dossier_code,
            )
        return record

    def _record_in_text(self, text: str, dossier_code: str | None) -> Any:
        """A record the answer holds as XML or JSON text, parsed as hardened as the answer itself."""
        where = self.vendor.responses.dossier.record
        cap = self.endpoint.bounds.max_answer_bytes
        try:
            return parse_xml_text(text, max_bytes=cap) if where.xml_string else parse_json_text(text, max_bytes=cap)
        except UnreadableText as exc:
            shown = f"hồ sơ {dossier_code}: " if dossier_code else ""
            raise to_error(
                Verdict(Resolution.UNREADABLE, remote_message=f"{shown}{where.path} (responses.dossier.record): {exc}"),
                system=self.system,
                operation=self.vendor.operations.dossier,
                dossier_code=dossier_code,
            ) from None

    def answers(self, unit_code: str, since: datetime, dossier_code: str | None) -> dict[str, Any]:
        """The feed's first page and a dossier's answer as the transport decodes them, before any profile path is
        read (what ``vendor probe --show-paths`` lists); no dossier code: the feed's answer only."""
        feed = self.feed
        ask = feed.paging.ask(since, None, feed.clock())
        unit_code = self.units.to_vendor(unit_code)
        values = {"unit": unit_code, "since": ask.since, "until": ask.until, "page_size": feed.page_size}
        out = {"changes": self._changes(request_body(self.vendor.requests.changes, {**values, "page": ask.page}))}
        if dossier_code is not None:
            out["dossier"] = self._operation(
                "dossier",
                self.vendor.operations.dossier,
                request_body(self.vendor.requests.dossier, {"unit": unit_code, "code": dossier_code}),
                dossier_code=dossier_code,
            )
        return out

    def push_progress(self, unit_code: str, entries: Sequence[RawRecord]) -> list[PushResult]:
        """Progress travels inside the update call: the entries of each dossier in one update, with the newest
        entry's status (and its source revision, where the kind's updates carry it)."""
        grouped: dict[str, list[RawRecord]] = {}
        for entry in entries:
            grouped.setdefault(str(entry.get("MaHoSo", "")), []).append(entry)
        out: list[PushResult] = []
        for code, items in grouped.items():
            last = items[-1]
            steps = [{k: v for k, v in e.items() if k not in ("MaHoSo", "PhienBanNguon")} for e in items]
            record: dict[str, Any] = {"MaHoSo": code, "TrangThai": last.get("TrangThai")}
            if self.progress_carries_revision:
                record["PhienBanNguon"] = last.get("PhienBanNguon")
            record["DanhSachTienDo"] = {"TienDo": steps}
            result = self.push_dossiers(unit_code, [record])[0]
            out.extend(PushResult(code, result.error, result.created) for _ in items)
        return out

    @abstractmethod
    def push_dossiers(
        self, unit_code: str, records: Sequence[RawRecord], *, existing: Collection[str] | None = None
    ) -> list[PushResult]:
        """Each record an update of ``unit_code``'s copy in the default shape, as the profile's update operation."""

    def fetch_changes(self, unit_code: str, since: datetime, token: str | None = None) -> ChangePage:
        return self.feed.page(self._changes, self.units.to_vendor(unit_code), since, token)

    def _changes(self, body: dict[str, Any]) -> Any:
        return self._operation("changes", self.vendor.operations.changes, body)

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> RawRecord:
        raw = self.raw_dossier(unit_code, dossier_code, source_id=seen.source_id if seen else None)
        record = dict(to_default(raw, self.vendor, feed=feed_of(seen)))
        problems = self.units.translate(record)  # the vendor's names for units → GSO codes, the hub's
        if problems:
            raise ValidationFailed(problems, dossier_code=dossier_code, target=self.system)
        return record

    def raw_dossier(self, unit_code: str, dossier_code: str, *, source_id: str | None = None) -> Mapping[str, Any]:
        """The dossier in the vendor's own shape and names, before the profile reshapes it: asked by its code, or
        by the platform's own id that the feed entry gave (``requests.dossier.id``)."""
        request = self.vendor.requests.dossier
        if request.code is None and source_id is None:
            raise RemoteRejected(
                f"Hồ sơ {dossier_code}: {self.system} chỉ cho hỏi hồ sơ bằng mã của nền tảng, mà chỉ mục biến động có; "
                "hãy thăm dò lại biến động của đơn vị (requests.dossier.id) / the platform is asked by its own id, "
                "which only a feed entry gives: poll the unit again",
                dossier_code=dossier_code,
                target=self.system,
            )
        values = {"unit": self.units.to_vendor(unit_code), "code": dossier_code, "id": source_id}
        reply = self._operation(
            "dossier", self.vendor.operations.dossier, request_body(request, values), dossier_code=dossier_code
        )
        return self._record(reply, dossier_code)


class ChangeFeed:
    """A vendor's change feed as its profile describes it: each page asked as the paging strategy says, its entries
    read with the vendor's time converter. The connector brings the call and the way its answers are read."""

    def __init__(self, vendor: VendorProfile, page_size: int, read: Read, clock: Callable[[], datetime]) -> None:
        self.vendor = vendor
        self.page_size = page_size
        self.paging = paging_for(vendor.paging, page_size)
        self.read = read
        self.clock = clock

    def page(self, call: Call, unit_code: str, since: datetime, token: str | None) -> ChangePage:
        """The page ``token`` names (None: the first) of the unit's changes since ``since``."""
        ask = self.paging.ask(since, token, self.clock())
        values = {
            "unit": unit_code,
            "since": ask.since,
            "until": ask.until,
            "page_size": self.page_size,
            "token": ask.token,
            "page": ask.page,
        }
        reply = call(request_body(self.vendor.requests.changes, values))
        shape = self.vendor.responses.changes
        found = self.read(reply, shape.items)
        entries = dataset_rows(found, shape.dataset) if shape.dataset else as_list(found)
        refs: list[ChangeRef] = []
        problems: list[FeedProblem] = []
        first_error: UnreadableEntry | None = None
        for position, item in enumerate(entries):
            try:
                refs.append(change_ref(item, shape))
            except UnreadableEntry as exc:
                first_error = first_error or exc
                problems.append(FeedProblem(position, exc.dossier_code, exc.field_path, exc.message))
        if first_error is not None and not refs:
            raise first_error  # no entry reads: the profile (or the vendor's whole feed) is wrong, not one entry
        reported = self.read(reply, shape.token) if shape.token else None
        total_pages = self.read(reply, shape.total_pages) if shape.total_pages else None
        return ChangePage(
            items=refs,
            next_token=self.paging.next(ask, refs, reported, total_pages, entries=len(entries)),
            problems=problems,
        )


def request_body(request: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """The request's elements: each role's value in the vendor's format, then the profile's constants.

    A role the profile does not name is not sent; a None value leaves its element out (optional elements). A dotted
    element (``boLoc.maCoQuan``) is nested, as a SOAP request with a complex filter element wants it.
    """
    body: dict[str, Any] = {}
    for role, value in values.items():
        spec = getattr(request, role, None)
        if isinstance(spec, RequestValue) and value is not None:
            set_path(body, spec.element, spec.write(value))
    for element, constant in request.constants.items():
        set_path(body, element, constant)
    return body


def change_ref(item: Any, shape: ChangesResponse) -> ChangeRef:
    """One feed entry; its change time goes through the profile's converter and must end up timezone-aware.
    :class:`UnreadableEntry` names the element when the entry has no code, no whole revision or no readable time."""
    raw_code = get_path(item, shape.code)
    code = None if raw_code in (None, "") else str(raw_code)
    if code is None:
        raise UnreadableEntry("Mục biến động không có mã hồ sơ (feed entry without a dossier code)", shape.code)
    raw_version = get_path(item, shape.version)
    try:
        version = int(str(raw_version).strip())
    except ValueError:
        raise UnreadableEntry(
            f"Hồ sơ {code}: phiên bản {_shown(raw_version)} không phải số nguyên (revision is not a whole number)",
            shape.version,
            dossier_code=code,
        ) from None
    raw_time = get_path(item, shape.updated_at)
    moment = shape.times.read(raw_time) if raw_time not in (None, "") else None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise UnreadableEntry(
            f"Hồ sơ {code}: thời điểm cập nhật {_shown(raw_time)} thiếu múi giờ hoặc sai định dạng "
            "(responses.changes.times) / the change feed gave a time without an offset or in an unknown format",
            shape.updated_at,
            dossier_code=code,
        )
    raw_id = get_path(item, shape.id) if shape.id else None
    if shape.id and raw_id in (None, ""):
        raise UnreadableEntry(
            f"Hồ sơ {code}: mục biến động không có mã của nền tảng (feed entry without the platform's id)",
            shape.id,
            dossier_code=code,
        )
    source_id = None if raw_id in (None, "") else str(raw_id)
    return ChangeRef(dossier_code=code, updated_at=moment, version=version, source_id=source_id)


def _shown(value: Any) -> str:
    """An entry's value as a message repeats it (a revision or a time, never long)."""
    return "(trống / empty)" if value in (None, "") else repr(value)[:40]


def feed_of(seen: ChangeRef | None) -> dict[str, Any] | None:
    """The change feed's facts about a revision, for records that do not carry them (``record.from_feed``)."""
    if seen is None:
        return None
    return {"updated_at": seen.updated_at, "version": seen.version}
