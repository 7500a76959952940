"""``dvc-hub vendor probe``: try a one-stop-shop system's vendor profile against the real service, or a saved record.

It reads a unit's change feed (page after page until it finds ``--code``) and one dossier, and reports the record as
the vendor sent it (long values cut), the canonical dossier the profile makes of it, every coded value with its
national meaning, and every problem at once — each with the profile or topology keys that decide it — plus the
vendor's fields that no profile key reads. An empty feed is a problem: it names the unit as the probe asked for it,
since a vendor that names units otherwise answers every poll with nothing. Personal data is masked everywhere in the
report. It changes nothing: no message is recorded, no watermark moves, nothing is pushed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.answer_paths import answer_paths
from connectors.base import ChangeRef
from connectors.changes import ProfiledSource, feed_of
from connectors.errors import AnswerTooLarge, AuthenticationFailed
from foundation.errors import ConfigurationError, HubError
from foundation.redaction import mask_text, personal_keys, redact_data, redact_model
from foundation.settings import Settings
from foundation.topology import System
from mappings.codes import ApplicantType, Channel, ReturnMethod, ServiceLevel, Status
from mappings.errors import ValidationFailed
from mappings.units import UnitIdentity
from mappings.vendors import (
    CODE_FIELDS,
    Undeclared,
    VendorProfile,
    code_paths,
    profile_keys_for,
    to_default,
    unread_paths,
)
from systems import registry

FEED_KEYS = ("operations.changes", "requests.changes", "responses.changes", "paging")
DOSSIER_KEYS = ("operations.dossier", "requests.dossier", "responses.dossier.record")
CREDENTIAL_KEYS = ("the system's credentials (DVC_HUB_CRED_…)", "faults.auth")
MAX_PAGES = 50  # feed pages read looking for --code
SHOWN_TEXT = 200  # characters of a value the report shows
SHOWN_ITEMS = 5  # items of a list the report shows
NATIONAL = {
    "status": Status,
    "channel": Channel,
    "applicant_type": ApplicantType,
    "return_method": ReturnMethod,
    "service_level": ServiceLevel,
    "step_state": Status,
}


@dataclass(frozen=True)
class CodedValue:
    """A coded value of the record: the vendor's code, the national number it means (None: undeclared), the label."""

    table: str
    vendor: str
    national: int | None
    label: str


@dataclass(frozen=True)
class Finding:
    """One problem: where it showed, what it says, and the profile keys to look at."""

    where: str
    message: str
    keys: tuple[str, ...] = ()


@dataclass
class ProbeReport:
    """What the probe saw; ``ok`` when the profile reads the feed and the dossier without a problem."""

    system: str
    vendor: str | None = None
    profile_file: str | None = None
    feed: list[ChangeRef] = field(default_factory=list)
    next_token: str | None = None
    dossier_code: str | None = None
    raw: Any = None
    canonical: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    paths: dict[str, list[str]] = field(default_factory=dict)  # --show-paths: each answer's paths, by role
    coded: list[CodedValue] = field(default_factory=list)
    unit_sent: str | None = None  # the unit as the feed request named it

    @property
    def ok(self) -> bool:
        return not self.findings


def probe(
    system: System,
    settings: Settings,
    *,
    unit: str | None = None,
    since: datetime | None = None,
    code: str | None = None,
    saved: bytes | None = None,
    show_paths: bool = False,
) -> ProbeReport:
    """Probe ``system`` live (``unit``'s feed from ``since``, dossier ``code`` or the feed's first) or ``saved``;
    ``show_paths`` also lists the paths of both answers as the transport decodes them
    (:mod:`connectors.answer_paths`)."""
    report = ProbeReport(system=system.name)
    kind = registry.kind_of(system)
    try:
        kind.parse_options(system)
        source = registry.build_source(system, settings)
    except ConfigurationError as exc:
        report.findings.append(Finding("profile", exc.message, ("systems.options", "the profile file")))
        return report
    if not isinstance(source, ProfiledSource) or kind.to_canonical is None:
        raise ConfigurationError(
            f"{system.name} ({system.kind}) không mô tả bằng hồ sơ nhà cung cấp / is not described by a vendor profile"
        )
    vendor = source.vendor
    report.vendor = vendor.name
    report.profile_file = str(vendor.source) if vendor.source else None
    seen: ChangeRef | None = None
    units: UnitIdentity = getattr(source, "units", UnitIdentity())
    try:
        if saved is not None:
            raw = source.read_saved(saved)
        else:
            if unit is None:
                raise ConfigurationError("Cần --unit khi thăm dò trực tuyến / a live probe needs --unit")
            if since is None:
                raise ConfigurationError("Cần --since khi thăm dò trực tuyến / a live probe needs --since")
            report.unit_sent = units.to_vendor(unit)
            seen = _feed(report, source, unit, since, code, units, system.name)
            report.dossier_code = code or (seen.dossier_code if seen else None)
            if show_paths and not any(f.where == "changes" for f in report.findings):  # a refusal is said once
                _paths(report, source, unit, since)
            if report.dossier_code is None:
                return report
            try:
                raw = source.raw_dossier(unit, report.dossier_code, source_id=seen.source_id if seen else None)
            except HubError as exc:
                report.findings.append(refused_finding("dossier", exc, DOSSIER_KEYS))
                return report
    except ConfigurationError as exc:
        report.findings.append(Finding("record", exc.message, DOSSIER_KEYS))
        return report
    _map(report, vendor, raw, seen, kind.to_canonical, units)
    return report


def _feed(
    report: ProbeReport,
    source: ProfiledSource,
    unit: str,
    since: datetime,
    code: str | None,
    units: UnitIdentity,
    system: str,
) -> ChangeRef | None:
    """Read the feed until it gives an entry (``--code``'s, when given) or ends; an empty feed is a finding."""
    token: str | None = None
    for _ in range(MAX_PAGES):
        try:
            page = source.fetch_changes(unit, since, token)
        except HubError as exc:
            report.findings.append(refused_finding("changes", exc, FEED_KEYS))
            return None
        for problem in page.problems:
            where = f"changes[{len(report.feed) + problem.position}].{problem.field_path}"
            report.findings.append(Finding(where, problem.message, ("responses.changes",)))
        report.feed.extend(page.items)
        token = report.next_token = page.next_token
        wanted = [r for r in page.items if code is None or r.dossier_code == code]
        if wanted:
            return wanted[0]
        if token is None:
            break
    if not report.feed and not report.findings:
        report.findings.append(
            Finding(
                "changes",
                f"Luồng thay đổi của đơn vị {unit} trống từ {since:%d/%m/%Y %H:%M}: hệ thống đã hỏi đơn vị bằng "
                f"{report.unit_sent!r} (cách gọi đơn vị: {units.naming}); nếu nhà cung cấp gọi đơn vị khác, sửa "
                f"cách gọi đơn vị / the feed of unit {unit} is empty since {since:%d/%m/%Y %H:%M}; it was asked for "
                f"as {report.unit_sent!r} ({units.naming} naming): a vendor that names units otherwise answers "
                "every poll with nothing",
                (
                    f"systems.{system}.options.unit_identity",
                    f"systems.{system}.options.unit_table",
                    "units[].agency_id",
                    "requests.changes.unit",
                    "--since",
                ),
            )
        )
    elif code is not None:
        report.findings.append(
            Finding(
                "changes",
                f"Hồ sơ {code} không có trong {len(report.feed)} mục biến động đã đọc; hồ sơ được hỏi không kèm mục "
                f"biến động / dossier {code} is not among the {len(report.feed)} feed entries read: it is fetched "
                "without the feed's facts",
                ("--since", "--code"),
            )
        )
    return None


def _paths(report: ProbeReport, source: ProfiledSource, unit: str, since: datetime) -> None:
    answers = getattr(source, "answers", None)
    if answers is None:
        return
    try:
        decoded = answers(unit, since, report.dossier_code)
    except HubError as exc:
        report.findings.append(refused_finding("paths", exc, FEED_KEYS))
        return
    report.paths = {role: answer_paths(answer) for role, answer in decoded.items()}


def refused_finding(where: str, exc: HubError, keys: tuple[str, ...]) -> Finding:
    """A call that failed, with the vendor's own words (masked: they may echo a citizen's data or a token); refused
    credentials point at the credentials first."""
    said = getattr(exc, "remote_message", None)
    message = f"{exc.message}\nNhà cung cấp trả lời (the vendor said): {mask_text(said)}" if said else exc.message
    if isinstance(exc, AnswerTooLarge):  # a genuine record over the cap: the cap is the system's option
        keys = (f"systems.{exc.target}.options.max_answer_bytes", *keys)
    return Finding(where, message, CREDENTIAL_KEYS if isinstance(exc, AuthenticationFailed) else keys)


def _map(
    report: ProbeReport,
    vendor: VendorProfile,
    raw: Mapping[str, Any],
    seen: ChangeRef | None,
    mapping: Any,
    units: UnitIdentity,
) -> None:
    personal = personal_keys() | frozenset(vendor.personal)
    report.raw = shortened(redact_data(dict(raw), personal=personal))
    report.unread = unread_paths(raw, vendor)
    record = to_default(raw, vendor, feed=feed_of(seen))
    report.coded = coded_values(raw, record, vendor)
    report.dossier_code = report.dossier_code or str(record.get("MaHoSo") or "") or None
    for problem in units.translate(record):
        report.findings.append(Finding(problem.path, str(problem), (units.key,)))
    try:
        dossier = mapping(record, _no_procedures)
    except ValidationFailed as exc:
        for problem in exc.problems:
            report.findings.append(Finding(problem.path, str(problem), tuple(profile_keys_for(vendor, problem.path))))
        return
    report.canonical = redact_model(dossier, type(dossier))


def _no_procedures(local_code: str) -> None:
    """The probe checks the vendor's record, not the province's procedure table (``dvc-hub procedures``)."""
    return None


def coded_values(raw: Mapping[str, Any], record: Mapping[str, Any], vendor: VendorProfile) -> list[CodedValue]:
    """Every distinct coded value of the record, as the vendor wrote it and as the profile translated it."""
    untranslated = to_default(raw, vendor.model_copy(update={"codes": {}, "steps": None}))
    seen: dict[tuple[str, str], CodedValue] = {}
    for table in CODE_FIELDS:
        if table == "step_state" and (vendor.steps is None or vendor.steps.source != "table"):
            continue
        for path in code_paths(vendor, table):
            if vendor.steps is not None and vendor.steps.history_status == path:
                continue  # the history's statuses: read at the steps
            for before, after in zip(_values(untranslated, path), _values(record, path), strict=False):
                key = (table, repr(before))
                if key not in seen:
                    seen[key] = _coded(table, before, after)
    return list(seen.values())


def _coded(table: str, before: Any, after: Any) -> CodedValue:
    enum = NATIONAL[table]
    if isinstance(after, Undeclared):
        return CodedValue(table, repr(before), None, f"không khai báo trong codes.{table} / undeclared")
    try:
        member = enum(int(after))
    except (TypeError, ValueError):
        try:
            member = enum(int(str(after).strip()))
        except ValueError:
            return CodedValue(table, repr(before), None, "bảng mã đóng gói đọc / left to the packaged tables")
    label = getattr(member, "label", member.name)
    return CodedValue(table, repr(before), member.value, f"{label} ({member.name.lower()})")


def _values(data: Any, path: str) -> list[Any]:
    step, _, rest = path.partition(".")
    if isinstance(data, list):
        return [v for item in data for v in _values(item, path)]
    if not isinstance(data, Mapping) or data.get(step) is None:
        return []
    return _values(data[step], rest) if rest else [data[step]]


def shortened(data: Any) -> Any:
    """A record as the report shows it: long texts cut, long lists cut to their first items, both saying so."""
    if isinstance(data, Mapping):
        return {key: shortened(value) for key, value in data.items()}
    if isinstance(data, list):
        head = [shortened(item) for item in data[:SHOWN_ITEMS]]
        more = len(data) - SHOWN_ITEMS
        return [*head, f"… {more} mục nữa / {more} more items"] if more > 0 else head
    if isinstance(data, str) and len(data) > SHOWN_TEXT:
        return f"{data[:SHOWN_TEXT]}… ({len(data)} ký tự / characters)"
    return data
