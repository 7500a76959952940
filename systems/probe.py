"""``dvc-hub vendor probe``: try a one-stop-shop system's vendor profile against the real service, or a saved record.

It reads one page of a unit's change feed and one dossier, and reports the record as the vendor sent it, the
canonical dossier the profile makes of it, and every problem at once — each with the profile keys that decide it —
plus the vendor's fields that no profile key reads. Personal data is masked everywhere in the report. It changes
nothing: no message is recorded, no watermark moves, nothing is pushed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.answer_paths import answer_paths
from connectors.base import ChangeRef
from connectors.changes import ProfiledSource, feed_of
from connectors.errors import AuthenticationFailed
from foundation.errors import ConfigurationError, HubError
from foundation.redaction import mask_text, personal_keys, redact_data, redact_model
from foundation.settings import Settings
from foundation.topology import System
from mappings.errors import ValidationFailed
from mappings.vendors import VendorProfile, profile_keys_for, to_default, unread_paths
from systems import registry

FEED_KEYS = ("operations.changes", "requests.changes", "responses.changes", "paging")
DOSSIER_KEYS = ("operations.dossier", "requests.dossier", "responses.dossier.record")
CREDENTIAL_KEYS = ("the system's credentials (DVC_HUB_CRED_…)", "faults.auth")


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
    try:
        if saved is not None:
            raw = source.read_saved(saved)
        else:
            if unit is None:
                raise ConfigurationError("Cần --unit khi thăm dò trực tuyến / a live probe needs --unit")
            if since is None:
                raise ConfigurationError("Cần --since khi thăm dò trực tuyến / a live probe needs --since")
            seen = _feed(report, source, unit, since, code)
            report.dossier_code = code or (seen.dossier_code if seen else None)
            if show_paths and not any(f.where == "changes" for f in report.findings):  # a refusal is said once
                _paths(report, source, unit, since)
            if report.dossier_code is None:
                return report
            try:
                raw = source.raw_dossier(unit, report.dossier_code)
            except HubError as exc:
                report.findings.append(refused_finding("dossier", exc, DOSSIER_KEYS))
                return report
    except ConfigurationError as exc:
        report.findings.append(Finding("record", exc.message, DOSSIER_KEYS))
        return report
    _map(report, vendor, raw, seen, kind.to_canonical)
    return report


def _feed(
    report: ProbeReport, source: ProfiledSource, unit: str, since: datetime, code: str | None
) -> ChangeRef | None:
    try:
        page = source.fetch_changes(unit, since)
    except HubError as exc:
        report.findings.append(refused_finding("changes", exc, FEED_KEYS))
        return None
    for problem in page.problems:
        where = f"changes[{problem.position}].{problem.field_path}"
        report.findings.append(Finding(where, problem.message, ("responses.changes",)))
    report.feed = list(page.items)
    report.next_token = page.next_token
    wanted = [r for r in page.items if code is None or r.dossier_code == code]
    return wanted[0] if wanted else None


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
    return Finding(where, message, CREDENTIAL_KEYS if isinstance(exc, AuthenticationFailed) else keys)


def _map(
    report: ProbeReport, vendor: VendorProfile, raw: Mapping[str, Any], seen: ChangeRef | None, mapping: Any
) -> None:
    personal = personal_keys() | frozenset(vendor.personal)
    report.raw = redact_data(dict(raw), personal=personal)
    report.unread = unread_paths(raw, vendor)
    record = to_default(raw, vendor, feed=feed_of(seen))
    report.dossier_code = report.dossier_code or str(record.get("MaHoSo") or "") or None
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
