"""Vendor profiles: how one one-stop-shop vendor's service (SOAP or JSON) names and shapes everything it sends.

Provinces buy one-stop-shop software from different vendors. Onboarding another vendor is a YAML file in
``mappings/vendors/`` (or any file a system's ``vendor_file`` option names), never new code: the connectors read
operation and element names, request value formats and the paging style from the profile, and :func:`to_default`
reshapes a vendor's record (nested groups, converters, sentinels, the vendor's code spellings, the change feed's time)
into the default vendor's record (``simulators/contracts``), which ``systems/motcua/mapping.py`` maps to the canonical
dossier; :func:`from_default` is the reverse, for pushes. ``default.yaml`` is the annotated reference of every key.
Everything here is pure: loading a profile reads a file, reshaping touches no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from foundation.clock import VN_TZ
from foundation.errors import ConfigurationError
from foundation.settings import PROJECT_ROOT
from mappings.normalize import day_written
from mappings.record_values import FieldValue
from mappings.steps import STEP_STATUS, StepStatus, statuses_from_history
from mappings.times import Epoch, from_epoch, to_epoch

VENDORS_DIR = Path(__file__).resolve().parent / "vendors"  # the default contract's profile: the reference of every key
# The profiles of the vendors met in the field (and simulated): configuration, like the topologies beside them
FIELD_VENDORS_DIR = PROJECT_ROOT / "config" / "vendors"
PROFILE_DIRS = (VENDORS_DIR, FIELD_VENDORS_DIR)

FaultResolution = Literal["retry", "reauth", "permanent"]
# What a fault means for the call that met it: retry later, log in again once, park the record, the record does not
# exist (a look-up's "none"), or the credentials are refused (parked at once: trying again cannot help).
FaultMeaning = Literal["retry", "reauth", "permanent", "park", "not_found", "auth"]
CodeTableName = Literal["status", "channel", "applicant_type", "return_method", "service_level", "step_state"]
FeedField = Literal["updated_at", "version"]

# Where each code table's values sit in the default record; a step through a list applies to every item.
CODE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "status": ("TrangThai", "DanhSachTienDo.TienDo.TrangThai"),
    "channel": ("KenhThucHien",),
    "applicant_type": ("ChuHoSo.LoaiDoiTuong",),
    "return_method": ("HinhThucTra",),
    "service_level": ("MucDo",),
    "step_state": (STEP_STATUS,),  # a task state (pending / doing / done): see ``steps``
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _zone(name: str | None) -> str | None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Ho_Chi_Minh)") from exc
    return name


class Operations(_Frozen):
    """The vendor's operation name for each role; ``update`` None: the vendor takes no status updates."""

    changes: str
    dossier: str
    update: str | None = None
    health: str | None = None


class RequestValue(_Frozen):
    """One request element and how its value is written: ``format`` (strftime) for times, in ``tz``, or ``epoch``
    (``s`` / ``ms``: a number of seconds or milliseconds since 1970 UTC)."""

    element: str
    format: str | None = None
    epoch: Epoch | None = None
    tz: str | None = None
    type: Literal["auto", "text", "number", "boolean"] = "auto"
    boolean: tuple[str, str] = ("true", "false")

    _check_tz = field_validator("tz")(_zone)

    def write(self, value: Any) -> Any:
        """``value`` as the vendor's schema wants it (None stays None: the element is left out)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            if self.epoch:
                return to_epoch(value, self.epoch)
            moment = value.astimezone(ZoneInfo(self.tz)) if self.tz else value
            if self.format:
                return moment.strftime(self.format)
            return moment if self.type == "auto" else moment.isoformat()
        if self.type == "boolean" or isinstance(value, bool):
            return self.boolean[0] if value else self.boolean[1]
        if self.type == "number":
            return int(value)
        if self.type == "text":
            return str(value)
        return value


def _value(raw: Any) -> Any:
    """The short form ``role: ElementName`` of a request value."""
    return {"element": raw} if isinstance(raw, str) else raw


class _Request(_Frozen):
    constants: dict[str, Any] = Field(default_factory=dict, description="elements sent with a fixed value")

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v if k == "constants" else _value(v) for k, v in data.items()}
        return data


class ChangesRequest(_Request):
    unit: RequestValue
    since: RequestValue
    until: RequestValue | None = None
    page_size: RequestValue | None = None
    token: RequestValue | None = None
    page: RequestValue | None = None


class DossierRequest(_Request):
    """The dossier asked by its code, or by the platform's own id (``id``: the feed entry's responses.changes.id)."""

    unit: RequestValue | None = None
    code: RequestValue | None = None
    id: RequestValue | None = None

    @model_validator(mode="after")
    def _code_or_id(self) -> DossierRequest:
        if self.code is None and self.id is None:
            raise ValueError("requests.dossier needs code or id (the element that names the dossier)")
        return self


class UnitOnlyRequest(_Request):
    unit: RequestValue | None = None


class UpdateRequest(_Request):
    """The status update's elements. Without ``code`` the request is the update record in the vendor's record shape
    (the reverse of ``record.fields``) plus ``unit``; with it, only the roles named here
    (:func:`mappings.vendor_updates.update_request`): a flat request, or a JSON body for ``rest-json``."""

    unit: RequestValue | None = None
    code: RequestValue | None = None
    status: RequestValue | None = None  # written in the vendor's spelling (its first word in codes.status)
    version: RequestValue | None = None  # the source revision the update carries (PhienBanNguon)
    sender: RequestValue | None = None  # the unit that decided
    note: RequestValue | None = None  # the newest progress entry's content
    officer: RequestValue | None = None  # its handler
    time: RequestValue | None = None  # its time
    finished_at: RequestValue | None = None
    returned_at: RequestValue | None = None
    expected_version: RequestValue | None = None  # the copy's revision the hub read before deciding what to send

    @model_validator(mode="after")
    def _flat_needs_a_status(self) -> UpdateRequest:
        if self.code is not None and self.status is None:
            raise ValueError("requests.update with code needs status (the element the new status is written to)")
        return self


class Requests(_Frozen):
    changes: ChangesRequest
    dossier: DossierRequest
    update: UpdateRequest = UpdateRequest()
    health: UnitOnlyRequest = UnitOnlyRequest()


class Converter(_Frozen):
    """How one field's text becomes a value: trimmed, case folded, "unknown" sentinels emptied, times parsed.

    ``dates`` are strftime formats tried in order; a time without an offset is in ``tz`` (Vietnam by default).
    ``epoch`` (``s`` / ``ms``) reads numbers of seconds or milliseconds since 1970 UTC.
    A value no format reads is left as it came, so the mapping reports it at the field's path.
    """

    trim: bool = True
    case: Literal["upper", "lower"] | None = None
    sentinels: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    tz: str | None = None
    epoch: Epoch | None = None

    _check_tz = field_validator("tz")(_zone)

    def read(self, value: Any) -> Any:
        if self.epoch and not isinstance(value, datetime):
            read = from_epoch(value, self.epoch, self.zone)
            if isinstance(read, datetime):
                return read
        if isinstance(value, datetime):
            return self._aware(value) if self.dates or self.tz else value
        if not isinstance(value, str):
            return value
        text = value.strip() if self.trim else value
        if text in self.sentinels:
            return None
        if self.case == "upper":
            text = text.upper()
        elif self.case == "lower":
            text = text.lower()
        for fmt in self.dates:
            try:
                return self._aware(datetime.strptime(text, fmt))  # noqa: DTZ007 - the zone is set by _aware
            except ValueError:
                continue
        return text

    def write(self, value: Any) -> Any:
        """The reverse, for pushes and round trips: a time in the first format, in the vendor's zone."""
        if isinstance(value, datetime) and self.epoch:
            return to_epoch(value, self.epoch)
        if isinstance(value, datetime) and self.dates:
            return value.astimezone(self.zone).strftime(self.dates[0])
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz) if self.tz else VN_TZ

    def _aware(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment.replace(tzinfo=self.zone)
        return moment


class FieldConverter(Converter):
    """A converter and the default-record paths it reads (``DanhSachTienDo.TienDo.ThoiDiem``: every step's)."""

    fields: tuple[str, ...] = Field(min_length=1)


class ChangesResponse(_Frozen):
    """Paths in a feed answer; ``.`` names the answer itself. ``id``: the platform's own id of the dossier, which
    fills ``requests.dossier.id``; ``code`` is the dossier code the hub stores, logs and shows."""

    items: str
    code: str
    id: str | None = None
    version: str
    updated_at: str
    token: str | None = None
    total_pages: str | None = None
    times: Converter = Field(default_factory=Converter, description="how the feed's change times are read")
    dataset: str | None = Field(
        default=None, description="items is a .NET DataSet: the diffgram table whose rows are the entries"
    )


class RecordPath(_Frozen):
    """Where the answer holds the record, and whether it is a text to parse first (XML or JSON in a string)."""

    path: str = Field(description="the record's path in the answer; ``.``: the answer is the record")
    xml_string: bool = False
    json_string: bool = False

    @model_validator(mode="after")
    def _one_text_kind(self) -> RecordPath:
        if self.xml_string and self.json_string:
            raise ValueError("a record string is either xml_string or json_string")
        return self


class DossierResponse(_Frozen):
    record: RecordPath

    @field_validator("record", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value


class UpdateResponse(_Frozen):
    outcome: str | None = None
    version: str | None = None
    added: str | None = None
    reason: str | None = None
    applied: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


class HealthResponse(_Frozen):
    status: str | None = None
    ok: tuple[str, ...] = ()


class Responses(_Frozen):
    changes: ChangesResponse
    dossier: DossierResponse
    update: UpdateResponse = UpdateResponse()
    health: HealthResponse = HealthResponse()


class Paging(_Frozen):
    """How the change feed is paged: a token the vendor returns, page numbers, or time windows we choose."""

    style: Literal["token", "page", "window"] = "token"
    first_page: int = 1
    window_hours: float = Field(default=24.0, gt=0)


class Group(_Frozen):
    """A nested element (or, with ``each``, a list of them) of the vendor's record, and its fields by default name."""

    path: str
    each: bool = False
    fields: dict[str, str | Group | FieldValue]


class RecordShape(_Frozen):
    """The default record built from the vendor's: default path → vendor path (dotted) or a nested group.

    ``from_feed``: default fields the record lacks, taken from the change feed's entry (its time or revision).
    """

    fields: dict[str, str | Group | FieldValue]
    from_feed: dict[str, FeedField] = Field(default_factory=dict)


def _match(raw: Any) -> Any:
    """The short form of a fault match: a bare string is the vendor's code in the detail element."""
    return {"detail": raw} if isinstance(raw, str) else raw


class FaultMatch(_Frozen):
    """How to recognise one of a vendor's faults; every condition given must hold.

    ``detail``: the vendor's code in the detail element (``faults.detail_code``); ``code``: the SOAP 1.1
    ``faultcode`` or a SOAP 1.2 ``Code``/``Subcode`` value by local name (``soap:Client.XacThuc`` is
    ``Client.XacThuc``); ``text``: words of ``faultstring``/``Reason``, case-insensitive; ``pattern``: a regular
    expression searched in them. A fault with an empty ``<detail />`` is recognised by its code or its text.
    """

    detail: str | None = None
    code: str | None = None
    text: str | None = None
    pattern: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return _match(data)

    @model_validator(mode="after")
    def _something_to_match(self) -> FaultMatch:
        if self.detail is None and self.code is None and self.text is None and self.pattern is None:
            raise ValueError("a fault match needs detail, code, text or pattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from exc
        return self

    def matches(self, *, codes: Sequence[str], reason: str, detail: str | None) -> bool:
        """Whether a fault with these codes (local names), reason text and detail code is this one."""
        return (
            (self.detail is None or self.detail == detail)
            and (self.code is None or self.code in codes)
            and (self.text is None or self.text.casefold() in reason.casefold())
            and (self.pattern is None or re.search(self.pattern, reason) is not None)
        )


class Faults(_Frozen):
    """What a vendor's SOAP faults mean. ``codes`` reads the detail code alone (the first profiles' form); the
    lists match by detail, fault code or text and are tried first, in the order auth, not_found, park, retry."""

    detail_code: str | None = None
    codes: dict[str, FaultResolution] = Field(default_factory=dict)
    auth: tuple[FaultMatch, ...] = ()
    not_found: tuple[FaultMatch, ...] = ()
    park: tuple[FaultMatch, ...] = ()
    retry: tuple[FaultMatch, ...] = ()

    def meaning(self, *, codes: Sequence[str], reason: str, detail: str | None) -> FaultMeaning | None:
        """What the profile says a fault means, or None when it does not know the fault."""
        ordered: tuple[tuple[FaultMeaning, tuple[FaultMatch, ...]], ...] = (
            ("auth", self.auth),
            ("not_found", self.not_found),
            ("park", self.park),
            ("retry", self.retry),
        )
        for meaning, matches in ordered:
            if any(m.matches(codes=codes, reason=reason, detail=detail) for m in matches):
                return meaning
        return self.codes.get(detail) if detail is not None else None

    def names_not_found(self, code: str | None) -> bool:
        """Whether a vendor's error code alone (a JSON vendor's ``error_code``) says the record does not exist."""
        return code is not None and self.meaning(codes=(code,), reason="", detail=code) == "not_found"


class SoapHeader(_Frozen):
    """A custom SOAP header element every call carries (an ASMX ``AuthHeader``): its children by element name, each
    ``username``, ``password`` (from the system's credentials) or a fixed text."""

    element: str
    namespace: str | None = None
    fields: dict[str, str]

    @field_validator("fields")
    @classmethod
    def _values_known(cls, fields: dict[str, str]) -> dict[str, str]:
        if not fields:
            raise ValueError("a header needs at least one field")
        return fields

    def values(self, username: str, password: str) -> dict[str, str]:
        """Each child's text: ``username`` / ``password`` from the credentials, anything else as written."""
        given = {"username": username, "password": password}
        return {name: given.get(source, source) for name, source in self.fields.items()}


class VendorProfile(_Frozen):
    """One vendor's names; see ``mappings/vendors/default.yaml`` for the meaning of every key."""

    name: str
    title: str = ""
    transport: Literal["soap", "json"] = "soap"
    wsdl: str | None = Field(default=None, description="local WSDL path, relative to the profile file")
    service: str | None = Field(default=None, description="wsdl:service name when the WSDL declares several")
    port: str | None = None
    ws_security: bool = Field(default=True, description="send a WS-Security UsernameToken (SOAP)")
    headers: tuple[SoapHeader, ...] = Field(default=(), description="custom SOAP headers every call carries")
    operations: Operations
    requests: Requests
    responses: Responses
    paging: Paging = Paging()
    faults: Faults = Faults()
    record: RecordShape | None = None
    renames: dict[str, str] = Field(default_factory=dict)
    within: dict[str, dict[str, str]] = Field(default_factory=dict)
    converters: tuple[FieldConverter, ...] = ()
    codes: dict[CodeTableName, dict[int, tuple[str | int, ...]]] = Field(
        default_factory=dict, description="national number → the vendor's codes for it (text or numbers)"
    )
    steps: StepStatus | None = Field(default=None, description="a step's status from a task state or the history")
    personal: tuple[str, ...] = Field(default=(), description="extra element names holding personal data")
    unknown_dates: frozenset[date] = Field(
        default=frozenset(), description="days this vendor writes for 'no date', beside mappings.normalize's own"
    )
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _renames_are_reversible(self) -> VendorProfile:
        for where, table in [("renames", self.renames), *((f"within.{k}", v) for k, v in self.within.items())]:
            if len(set(table.values())) != len(table):
                raise ValueError(f"{where}: two vendor names map to the same default name; the reverse is ambiguous")
        if self.record is not None and (self.renames or self.within):
            raise ValueError("record: give either record.fields or renames/within, not both")
        for code_table, spellings in self.codes.items():
            seen: dict[str, int] = {}
            for number, words in spellings.items():
                for word in words:
                    key = _key(word)
                    if seen.setdefault(key, number) != number:
                        raise ValueError(f"codes.{code_table}: {word!r} names both {seen[key]} and {number}")
        if self.paging.style == "page" and self.requests.changes.page is None:
            raise ValueError("paging.style page needs requests.changes.page (the page-number element)")
        if self.paging.style == "window" and self.requests.changes.until is None:
            raise ValueError("paging.style window needs requests.changes.until (the window's end element)")
        return self

    @property
    def wsdl_path(self) -> Path | None:
        if self.wsdl is None:
            return None
        base = self.source.parent if self.source is not None else VENDORS_DIR
        return (base / self.wsdl).resolve()


def load_profile(path: Path) -> VendorProfile:
    """Read and validate a profile file; ConfigurationError names the file and every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return VendorProfile.model_validate({**data, "source": path})
    except (OSError, yaml.YAMLError, TypeError) as exc:
        raise ConfigurationError(
            f"Không đọc được hồ sơ nhà cung cấp {path} / cannot read vendor profile: {exc}"
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(
            f"Hồ sơ nhà cung cấp {path} không hợp lệ / invalid vendor profile: {problems}"
        ) from exc


@cache
def profile(name: str) -> VendorProfile:
    """A shipped profile by name (``mappings/vendors/<name>.yaml`` for the default contract, ``config/vendors/`` for
    the vendors met in the field), read once per process."""
    for directory in PROFILE_DIRS:
        path = directory / f"{name}.yaml"
        if path.is_file():
            return load_profile(path)
    known = ", ".join(sorted(p.stem for directory in PROFILE_DIRS for p in directory.glob("*.yaml")))
    raise ConfigurationError(f"Không có nhà cung cấp {name!r} (unknown vendor; known: {known})")


def to_default(record: Any, vendor: VendorProfile, *, feed: Mapping[str, Any] | None = None) -> Any:
    """A vendor's record in the default vendor's shape (a new structure; the input is not changed).

    Reshaped (``record.fields``) or renamed (``renames``), then the change feed's time and revision fill what the
    record lacks (``record.from_feed``), converters read each field (``converters``) and the vendor's code
    spellings become the national numbers (``codes``); a spelling the vendor table lacks is left for the packaged
    tables (``mappings/tables/codes.yaml``) to read.
    """
    if vendor.record is not None:
        out: dict[str, Any] = _project(record, vendor.record.fields)
        for target, field in vendor.record.from_feed.items():
            if get_path(out, target) is None and feed is not None and feed.get(field) is not None:
                set_path(out, target, feed[field])
    else:
        out = _rename(record, vendor.renames, vendor.within, parent=None, forward=True)
    for converter in vendor.converters:
        for path in converter.fields:
            _apply_at(out, path, converter.read)
    for table, spellings in vendor.codes.items():
        reader = _CodeReader({_key(word): n for n, words in spellings.items() for word in words}, table)
        for path in code_paths(vendor, table):
            _apply_at(out, path, reader)
    if vendor.steps is not None and vendor.steps.history:
        statuses_from_history(out, vendor.steps, out.pop(vendor.steps.history, None))
    # A date the vendor writes for "no date" (``unknown_dates``) becomes None, so the mapping sees it as absent.
    return _blank_unknown_dates(out, vendor.unknown_dates) if vendor.unknown_dates else out


def _blank_unknown_dates(data: Any, unknown: frozenset[date]) -> Any:
    if isinstance(data, dict):
        return {key: _blank_unknown_dates(value, unknown) for key, value in data.items()}
    if isinstance(data, list):
        return [_blank_unknown_dates(value, unknown) for value in data]
    return None if day_written(data) in unknown else data


def from_default(record: Any, vendor: VendorProfile) -> Any:
    """A default-shaped record in the vendor's names and spellings, for pushes (the reverse of :func:`to_default`)."""
    out = _copy(record)
    for table, spellings in vendor.codes.items():
        writer = _CodeWriter({number: words[0] for number, words in spellings.items() if words})
        for path in code_paths(vendor, table):
            _apply_at(out, path, writer)
    for converter in vendor.converters:
        for path in converter.fields:
            _apply_at(out, path, converter.write)
    if vendor.record is not None:
        return _unproject(out, vendor.record.fields)
    reverse = {v: k for k, v in vendor.renames.items()}
    within = {k: {v: n for n, v in t.items()} for k, t in vendor.within.items()}
    return _rename(out, reverse, within, parent=None, forward=False)


def code_paths(vendor: VendorProfile, table: str) -> tuple[str, ...]:
    """Where ``table``'s values sit in the default record for this vendor: with ``steps`` the steps' states are the
    step-state table's (or the history's), not the status table's; the status history holds statuses."""
    paths = CODE_FIELDS[table]
    if table == "status" and vendor.steps is not None:
        paths = tuple(p for p in paths if p != STEP_STATUS)
        if vendor.steps.history_status:
            paths = (*paths, vendor.steps.history_status)
    return paths


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path of nested mappings (``.``: the data itself), or None when any step is missing."""
    if path == ".":
        return data
    for step in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(step)
    return data


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a dotted path, making the mappings on the way."""
    *parents, last = path.split(".")
    for step in parents:
        data = data.setdefault(step, {})
    data[last] = value


def as_list(value: Any) -> list[Any]:
    """A repeated element as a list: zeep and XML give one item bare, a wrapper may be empty."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _project(data: Any, fields: Mapping[str, str | Group | FieldValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, source in fields.items():
        value: Any
        if isinstance(source, str):
            value = get_path(data, source)
        elif isinstance(source, FieldValue):
            value = source.pick(get_path(data, source.path) if source.path else None)
        elif source.each:
            value = [_project(item, source.fields) for item in as_list(get_path(data, source.path))]
        else:
            node = get_path(data, source.path)
            value = _project(node, source.fields) if isinstance(node, Mapping) else None
        if value is not None:
            set_path(out, target, value)
    return out


def _unproject(data: Any, fields: Mapping[str, str | Group | FieldValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for target, source in fields.items():
        value = get_path(data, target)
        if value is None:
            continue
        if isinstance(source, str):
            set_path(out, source, value)
        elif isinstance(source, FieldValue):
            if source.path is not None:  # a constant has nowhere to go in the vendor's record
                set_path(out, source.path, value)
        elif source.each:
            set_path(out, source.path, [_unproject(item, source.fields) for item in as_list(value)])
        elif isinstance(value, Mapping):
            set_path(out, source.path, _unproject(value, source.fields))
    return out


def _apply_at(data: Any, path: str, fn: Callable[[Any], Any]) -> None:
    """Replace the value(s) at ``path`` in place with ``fn(value)``; a list on the way applies to every item."""
    step, _, rest = path.partition(".")
    if isinstance(data, list):
        for item in data:
            _apply_at(item, path, fn)
        return
    if not isinstance(data, dict) or step not in data:
        return
    if rest:
        _apply_at(data[step], rest, fn)
    elif data[step] is not None:
        data[step] = fn(data[step])


def _key(word: str | int) -> str:
    return str(word).strip().lower()


class Undeclared:
    """A number the vendor's code table does not declare: never read as if it were the national code of that
    number; the mapping refuses it at its field, naming the table to complete."""

    __slots__ = ("table", "value")

    def __init__(self, value: Any, table: str) -> None:
        self.value = value
        self.table = table

    def __repr__(self) -> str:
        return f"{self.value!r} (codes.{self.table} không khai báo / not declared in the profile's codes.{self.table})"


class _CodeReader:
    """A vendor's code (text or number) → the national number. A number a table that holds numbers does not
    declare is :class:`Undeclared`; other text is left for the packaged tables (English names, national numbers)."""

    def __init__(self, lookup: Mapping[str, int], table: str) -> None:
        self.lookup = lookup
        self.table = table
        self.numeric = any(key.lstrip("-").isdigit() for key in lookup)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return value
        key = _key(value)
        found = self.lookup.get(key)
        if found is not None:
            return found
        if self.numeric and key.lstrip("-").isdigit():
            return Undeclared(value, self.table)
        return value


class _CodeWriter:
    """The national number → the vendor's first spelling (or number) of it."""

    def __init__(self, first: Mapping[int, str | int]) -> None:
        self.first = first

    def __call__(self, value: Any) -> Any:
        return self.first.get(value, value) if isinstance(value, int) and not isinstance(value, bool) else value


def _copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_copy(v) for v in data]
    return data


def _rename(
    data: Any, table: Mapping[str, str], within: Mapping[str, Mapping[str, str]], *, parent: str | None, forward: bool
) -> Any:
    if isinstance(data, Mapping):
        scoped = within.get(parent or "", {})
        out: dict[str, Any] = {}
        for key, value in data.items():
            new = scoped.get(key) or table.get(key, key)
            # ``within`` is keyed by the parent's default name in both directions.
            out[new] = _rename(value, table, within, parent=new if forward else key, forward=forward)
        return out
    if isinstance(data, list | tuple):
        return [_rename(v, table, within, parent=parent, forward=forward) for v in data]
    return data


def profile_keys_for(vendor: VendorProfile, path: str) -> list[str]:
    """The profile keys that decide the default record's field at ``path`` (``DanhSachTienDo.TienDo[2].ThoiDiem``):
    where it is read from, how it is converted, which code table spells it. What an integrator edits to fix it."""
    plain = re.sub(r"\[\d+\]", "", path)
    keys: list[str] = []
    if vendor.record is not None:
        found = _field_key(vendor.record.fields, plain, "record.fields")
        if found is not None or plain not in vendor.record.from_feed:
            keys.append(found or f"record.fields (nothing reads {plain})")
        if plain in vendor.record.from_feed:
            keys.append(f"record.from_feed.{plain}")
        elif plain in ("NgayCapNhat", "PhienBan") and found is None:
            keys.append("record.from_feed (take it from the change feed)")
    else:
        keys.append("renames / within")
    keys.extend(f"converters[{i}]" for i, c in enumerate(vendor.converters) if plain in c.fields)
    keys.extend(f"codes.{table}" for table in CODE_FIELDS if plain in code_paths(vendor, table))
    if vendor.steps is not None and plain == STEP_STATUS:
        keys.append("steps")
    return keys


def unread_paths(record: Any, vendor: VendorProfile) -> list[str]:
    """The vendor record's leaf paths that ``record.fields`` does not read: data the profile leaves behind."""
    if vendor.record is None:
        return []
    read = set(_read_paths(vendor.record.fields, ""))
    # A list's items share their paths: each unread path once (``attachments.content``), not once per item.
    leaves = set(_leaves(record, ""))
    return sorted(p for p in leaves if not any(p == r or p.startswith(r + ".") for r in read))


def _field_key(fields: Mapping[str, str | Group | FieldValue], path: str, prefix: str) -> str | None:
    for target, source in fields.items():
        if path == target:
            return f"{prefix}.{target}"
        if isinstance(source, Group) and path.startswith(target + "."):
            return _field_key(source.fields, path[len(target) + 1 :], f"{prefix}.{target}.fields")
    return None


def _read_paths(fields: Mapping[str, str | Group | FieldValue], base: str) -> Iterator[str]:
    for source in fields.values():
        if isinstance(source, str):
            yield base + source
        elif isinstance(source, FieldValue):
            if source.path is not None:
                yield base + source.path
        else:
            yield from _read_paths(source.fields, f"{base}{source.path}.")


def _leaves(data: Any, base: str) -> Iterator[str]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _leaves(value, f"{base}{key}.")
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _leaves(item, base)
    elif data is not None and data != "":
        yield base.rstrip(".")
