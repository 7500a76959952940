"""What the console reads from the integration log: search, a dossier's timeline, and the dashboard's figures.

Every query is shaped for an index of ``hub.store.models`` so it stays fast at tens of millions of rows: search by
dossier code walks ``ix_messages_dossier``; other filters are bounded by a time range (today by default); pages are
keyset on ``id`` (descending), so a page never shifts while new messages arrive; dashboard figures read a bounded
window or the small in-flight/parked sets, never the whole log. Personal data leaves here only for operators: viewers
get redacted payloads and remote texts masked by :func:`foundation.redaction.mask_text`, which also hides the
dossier's own personal values wherever a remote echoed them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator
from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from console.models import Incident
from foundation.clock import VN_TZ, utcnow
from foundation.errors import RAISED_BEFORE_SENDING
from foundation.redaction import REDACTED, mask_data, mask_text, personal_values, redact_model
from foundation.text import AGENCY_ID_PATTERN
from foundation.topology import Topology
from hub.store.models import (
    Attempt,
    AuditEntry,
    Dossier,
    DossierVersion,
    Message,
    MessageState,
    ProcedureMapping,
    TargetSwitch,
    Watermark,
)
from mappings.canonical import Dossier as CanonicalDossier
from schedules.control import JobView, jobs_in

_DOSSIER_CODE = re.compile(rf"{AGENCY_ID_PATTERN}-\d{{6}}-\d{{4}}")
IN_FLIGHT = [s.value for s in MessageState if s.in_flight]
WAITING = [MessageState.QUEUED.value, MessageState.RETRYING.value]
PAGE_MAX = 200
RECENT = timedelta(minutes=15)  # the window for "recent" outcomes: error rate, circuit


def _plausible(value: datetime) -> datetime:
    # Years near 1 or 9999 overflow when moved between time zones; nothing in the log is outside these.
    if not 1900 <= value.year <= 9000:
        raise ValueError("năm phải trong khoảng 1900-9000 (year must be between 1900 and 9000)")
    return value


BoundedDatetime = Annotated[datetime, AfterValidator(_plausible)]


def today_start(now: datetime | None = None) -> datetime:
    """Midnight today in Vietnam, whatever the server's timezone."""
    local = (now or utcnow()).astimezone(VN_TZ)
    return datetime.combine(local.date(), time(), tzinfo=VN_TZ)


class SearchFilter(BaseModel):
    """A search of the integration log; an exact dossier code searches all time, anything else today by default."""

    dossier_code: str | None = Field(default=None, max_length=40)
    unit_code: str | None = Field(default=None, max_length=8)
    procedure_code: str | None = Field(default=None, max_length=120)
    target: str | None = Field(default=None, max_length=60)
    state: MessageState | None = None
    error_class: str | None = Field(default=None, max_length=40)
    since: BoundedDatetime | None = None
    until: BoundedDatetime | None = None
    before_id: int | None = Field(
        default=None, ge=1, le=2**62, description="keyset cursor: the last id of the previous page"
    )
    limit: int = Field(default=50, ge=1, le=PAGE_MAX)

    @field_validator("dossier_code", "unit_code", "procedure_code", "target", "error_class", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A time typed into the console without an offset is Vietnamese local time.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=VN_TZ)
        return value

    def window(self, now: datetime | None = None) -> tuple[datetime | None, datetime | None]:
        """The time range actually searched: today unless a range or an exact dossier code is given."""
        if self.since is None and self.dossier_code is None:
            return today_start(now), self.until
        return self.since, self.until


class JobFilter(BaseModel):
    """The messages a bulk replay takes, as the console accepts them from a form or the API."""

    since: BoundedDatetime | None = None
    until: BoundedDatetime | None = None
    target: str | None = Field(default=None, max_length=60)
    unit_code: str | None = Field(default=None, max_length=8)
    procedure_code: str | None = Field(default=None, max_length=120)
    error_class: str | None = Field(default=None, max_length=40)
    dossier_code: str | None = Field(default=None, max_length=40)
    state: Literal["parked", "cancelled", "succeeded"] = "parked"


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    kind: str
    actor: str
    state: str
    dossier_code: str | None
    unit_code: str | None
    procedure_code: str | None
    source: str | None
    target: str | None
    attempts: int
    error_class: str | None
    error_message: str | None
    replay_of: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: list[MessageRow]
    next_before_id: int | None  # None on the last page
    since: datetime | None
    until: datetime | None


_ROW_COLUMNS = (
    Message.id,
    Message.kind,
    Message.actor,
    Message.state,
    Message.dossier_code,
    Message.unit_code,
    Message.procedure_code,
    Message.source,
    Message.target,
    Message.attempts,
    Message.error_class,
    Message.error_message,
    Message.replay_of,
    Message.created_at,
    Message.updated_at,
)


def _conditions(flt: SearchFilter, now: datetime | None = None) -> list[ColumnElement[bool]]:
    since, until = flt.window(now)
    conds: list[ColumnElement[bool]] = []
    if flt.dossier_code is not None:
        conds.append(Message.dossier_code == flt.dossier_code)
    if flt.unit_code is not None:
        conds.append(Message.unit_code == flt.unit_code)
    if flt.procedure_code is not None:
        conds.append(Message.procedure_code == flt.procedure_code)
    if flt.target is not None:
        conds.append(Message.target == flt.target)
    if flt.state is not None:
        conds.append(Message.state == flt.state.value)
    if flt.error_class is not None:
        conds.append(Message.error_class == flt.error_class)
    if since is not None:
        conds.append(Message.created_at >= since)
    if until is not None:
        conds.append(Message.created_at < until)
    return conds


def search(session: Session, flt: SearchFilter, *, personal: bool, now: datetime | None = None) -> SearchPage:
    """One page of messages matching ``flt``, newest first; error texts masked unless ``personal``."""
    query = select(*_ROW_COLUMNS).where(*_conditions(flt, now))
    if flt.before_id is not None:
        query = query.where(Message.id < flt.before_id)
    result = session.execute(query.order_by(Message.id.desc()).limit(flt.limit + 1))
    rows = [MessageRow(**r._asdict()) for r in result]
    more = len(rows) > flt.limit
    rows = rows[: flt.limit]
    if not personal:
        failed = [r for r in rows if r.error_message]
        batches = _batch_codes(session, [r.id for r in failed])
        wanted = {r.id: {r.dossier_code, *batches.get(r.id, ())} - {None} for r in failed}
        known = known_personal_values(session, {code for codes in wanted.values() for code in codes if code})
        rows = [_masked_row(r, set().union(*(known.get(c, set()) for c in wanted.get(r.id, ())))) for r in rows]
    since, until = flt.window(now)
    return SearchPage(rows=rows, next_before_id=rows[-1].id if more else None, since=since, until=until)


def find_dossiers(
    session: Session,
    fragment: str | None = None,
    *,
    unit_code: str | None = None,
    procedure_code: str | None = None,
    status: int | None = None,
    limit: int = 50,
) -> list[Dossier]:
    """Dossiers, one row each (never one per message), newest change first: by a fragment of the code in any case
    ("h47-240304" finds 000.01.17.H47-240304-0001), the receiving unit, the local procedure, the status."""
    query = select(Dossier)
    if fragment:
        query = query.where(func.upper(Dossier.code).contains(fragment.strip().upper(), autoescape=True))
    if unit_code:
        query = query.where(Dossier.receiving_unit == unit_code)
    if procedure_code:
        query = query.where(Dossier.local_procedure_code == procedure_code)
    if status is not None:
        query = query.where(Dossier.status == status)
    return list(session.scalars(query.order_by(Dossier.source_updated_at.desc(), Dossier.code).limit(limit)))


def procedure_names(session: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """Local procedure codes' names, for a page of rows: the mapping's catalogue name, else the name a dossier of
    that procedure carries (TenTTHC); a code with neither has no entry."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    names = {
        code: name
        for code, name in session.execute(
            select(ProcedureMapping.local_code, ProcedureMapping.procedure_name).where(
                ProcedureMapping.local_code.in_(wanted), ProcedureMapping.active.is_(True)
            )
        )
        if name
    }
    for code in sorted(wanted - set(names)):
        data = session.scalars(select(Dossier.data).where(Dossier.local_procedure_code == code).limit(1)).first()
        if data and data.get("procedure_name"):
            names[code] = str(data["procedure_name"])
    return names


# --- dossier timeline -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass(slots=True)
class VersionView:
    version: int
    status: int
    source_updated_at: datetime
    recorded_at: datetime
    message_id: int | None
    changes: list[Change]


@dataclass(slots=True)
class AttemptView:
    id: int
    number: int
    outcome: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    error_class: str | None
    error_message: str | None
    remote_message: str | None
    request: dict[str, Any] | None
    response: dict[str, Any] | None


@dataclass(slots=True)
class MessageView:
    row: MessageRow
    payload: dict[str, Any] | None
    result: dict[str, Any] | None
    remote_message: str | None
    attempts: list[AttemptView] = field(default_factory=list)


@dataclass(slots=True)
class Timeline:
    code: str
    dossier: dict[str, Any] | None  # the newest accepted version's summary and data
    messages: list[MessageView]
    versions: list[VersionView]
    targets: list[str]


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """The leaves that differ between two JSON values, with dotted paths (``TaiLieuNop[2].TenTepDinhKem``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            changes.extend(diff(old.get(key), new.get(key), sub))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for i in range(max(len(old), len(new))):
            changes.extend(diff(old[i] if i < len(old) else None, new[i] if i < len(new) else None, f"{path}[{i}]"))
        return changes
    return [] if old == new else [Change(path or "(root)", old, new)]


def known_personal_values(session: Session, codes: Iterable[str]) -> dict[str, set[str]]:
    """Each dossier's own personal values (names, ID numbers, contacts, summary), to mask where a remote echoed them."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Dossier.code, Dossier.data).where(Dossier.code.in_(wanted)))
    return {code: personal_values(data, CanonicalDossier) for code, data in rows}


def _batch_codes(session: Session, message_ids: Iterable[int]) -> dict[int, set[str]]:
    """The dossier codes each message's tries sent (a batch carries other dossiers): a remote's refusal of the batch
    may name any of their applicants, so a viewer's copy masks them all."""
    ids = sorted(set(message_ids))
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        query = select(Attempt.message_id, Attempt.request_redacted).where(
            Attempt.message_id.in_(ids), Attempt.request_redacted.is_not(None)
        )
        for message_id, request in session.execute(query):
            found[message_id].update(_DOSSIER_CODE.findall(json.dumps(request, ensure_ascii=False)))
    return found


def _mask(text: str | None, hidden: set[str] | None) -> str | None:
    return mask_text(text, hidden) if text is not None and hidden is not None else text


def _masked(data: dict[str, Any] | None, hidden: set[str]) -> dict[str, Any] | None:
    # Redacted by key at write time; free text under other keys (a portal's "message") is masked here.
    masked: dict[str, Any] | None = mask_data(data, hidden) if data is not None else None
    return masked


def _masked_row(row: MessageRow, known: set[str]) -> MessageRow:
    return replace(row, error_message=_mask(row.error_message, known))


def _payload_values(payload: dict[str, Any] | None) -> set[str]:
    record = payload.get("record") if payload else None
    return personal_values(record, CanonicalDossier) if isinstance(record, dict) else set()


def _safe(data: dict[str, Any] | None, personal: bool) -> dict[str, Any] | None:
    """Canonical dossier data as the user may see it."""
    if data is None or personal:
        return data
    redacted: dict[str, Any] = redact_model(data, CanonicalDossier)
    return redacted


def message_view(session: Session, message: Message, *, personal: bool, known: set[str] | None = None) -> MessageView:
    """One message with its attempts; viewers get only the redacted payloads, masked error texts and no remote
    answers. ``known``: the dossier's personal values, when the caller has them already."""
    attempts = session.scalars(
        select(Attempt).where(Attempt.message_id == message.id).order_by(Attempt.number, Attempt.id)
    ).all()
    row = MessageRow(*(getattr(message, c.key) for c in _ROW_COLUMNS))
    hidden: set[str] | None = None  # None: the user may read remote texts as they came
    if not personal:
        codes = _batch_codes(session, [message.id]).get(message.id, set())
        if known is None and message.dossier_code:
            codes.add(message.dossier_code)
        others = known_personal_values(session, codes)
        hidden = set(known or ()).union(*others.values()) | _payload_values(message.payload)
        row = _masked_row(row, hidden)

    return MessageView(
        row=row,
        payload=message.payload if hidden is None else _masked(message.payload_redacted, hidden),
        result=message.result if personal else None,
        remote_message=message.remote_message if personal else None,
        attempts=[
            AttemptView(
                id=a.id,
                number=a.number,
                outcome=a.outcome,
                started_at=a.started_at,
                finished_at=a.finished_at,
                duration_ms=a.duration_ms,
                error_class=a.error_class,
                error_message=_mask(a.error_message, hidden),
                remote_message=a.remote_message if personal else None,
                request=a.request if hidden is None else _masked(a.request_redacted, hidden),
                response=a.response if hidden is None else _masked(a.response_redacted, hidden),
            )
            for a in attempts
        ],
    )


def timeline(session: Session, code: str, *, personal: bool, limit: int = 500) -> Timeline | None:
    """Everything the hub knows about one dossier, or None when it has never seen the code."""
    messages = session.scalars(
        select(Message).where(Message.dossier_code == code).order_by(Message.id.desc()).limit(limit)
    ).all()
    dossier = session.get(Dossier, code)
    versions = session.scalars(
        select(DossierVersion).where(DossierVersion.dossier_code == code).order_by(DossierVersion.version)
    ).all()
    if not messages and dossier is None and not versions:
        return None
    views: list[VersionView] = []
    previous: dict[str, Any] | None = None
    for v in versions:
        data = _safe(v.data, personal) or {}
        views.append(
            VersionView(
                version=v.version,
                status=v.status,
                source_updated_at=v.source_updated_at,
                recorded_at=v.recorded_at,
                message_id=v.message_id,
                changes=diff(previous, data) if previous is not None else [],
            )
        )
        previous = data
    summary = None
    if dossier is not None:
        summary = {
            "code": dossier.code,
            "receiving_unit": dossier.receiving_unit,
            "processing_unit": dossier.processing_unit,
            "local_procedure_code": dossier.local_procedure_code,
            "national_procedure_code": dossier.national_procedure_code
            or _mapped_now(session, dossier.local_procedure_code),
            "status": dossier.status,
            "version": dossier.version,
            "received_at": dossier.received_at,
            "appointment_at": dossier.appointment_at,
            "finished_at": dossier.finished_at,
            "data": _safe(dossier.data, personal),
        }
    ordered = list(reversed(messages))  # oldest first: a timeline reads forwards
    known = personal_values(dossier.data, CanonicalDossier) if dossier is not None else set()
    for v in versions:
        known |= personal_values(v.data, CanonicalDossier)
    return Timeline(
        code=code,
        dossier=summary,
        messages=[message_view(session, m, personal=personal, known=known) for m in ordered],
        versions=views,
        targets=sorted({m.target for m in messages if m.target}),
    )


# --- dashboard --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetHealth:
    target: str
    paused: bool
    pause_reason: str | None
    backlog: int
    oldest_waiting: datetime | None
    parked: int
    recent_ok: int
    recent_failed: int
    last_success: datetime | None

    @property
    def error_rate(self) -> float:
        total = self.recent_ok + self.recent_failed
        return self.recent_failed / total if total else 0.0

    @property
    def circuit(self) -> str:
        """Derived from the recent window: open when everything recent failed, half-open when some got through."""
        if self.recent_failed >= 3 and self.recent_ok == 0:
            return "open"
        if self.recent_failed and self.error_rate >= 0.5:
            return "half-open"
        return "closed"


@dataclass(frozen=True, slots=True)
class UnitLag:
    system: str
    unit_code: str
    unit_name: str
    level: str
    watermark: datetime
    lag_seconds: float


@dataclass(slots=True)
class Dashboard:
    now: datetime
    window_minutes: int
    per_minute: list[tuple[datetime, int, int]]  # minute, succeeded or in flight, failed
    total: int
    failed: int
    targets: list[TargetHealth]
    parked_by_error: list[tuple[str, str, int]]  # error class, target, count
    lags: list[UnitLag]
    schedules: list[JobView]
    incidents: list[Incident]

    @property
    def failure_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


FAILED_STATES = [MessageState.PARKED.value, MessageState.RETRYING.value]


def _minute(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.date_trunc("minute", column)
    return func.strftime("%Y-%m-%d %H:%M", column)


def _aware_utc(value: datetime) -> datetime:
    """SQLite hands aggregates back naive (in UTC, as stored); PostgreSQL aware."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def targets_health(session: Session, *, now: datetime, known: list[str], recent: timedelta) -> list[TargetHealth]:
    """Backlog, oldest waiting, parked and recent outcomes per target, from the small in-flight and parked sets."""
    backlog: dict[str, tuple[int, datetime | None]] = {}
    for target, count, oldest in session.execute(
        select(Message.target, func.count(), func.min(Message.created_at))
        .where(Message.state.in_(WAITING), Message.target.is_not(None))
        .group_by(Message.target)
    ):
        backlog[str(target)] = (count, _aware_utc(oldest) if oldest else None)
    parked: dict[str, int] = {
        str(target): count
        for target, count in session.execute(
            select(Message.target, func.count())
            .where(Message.state == MessageState.PARKED.value, Message.target.is_not(None))
            .group_by(Message.target)
        )
    }
    outcomes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for target, state, count in session.execute(
        select(Message.target, Message.state, func.count())
        .where(
            Message.created_at >= now - recent,
            Message.target.is_not(None),
            # an unmapped procedure or an invalid record never reached the target: not the target's failure
            or_(Message.error_class.is_(None), Message.error_class.not_in(RAISED_BEFORE_SENDING)),
        )
        .group_by(Message.target, Message.state)
    ):
        if state == MessageState.SUCCEEDED.value:
            outcomes[str(target)][0] += count
        elif state in FAILED_STATES:
            outcomes[str(target)][1] += count
    switches = {s.target: s for s in session.scalars(select(TargetSwitch))}
    names = sorted(set(known) | set(backlog) | set(parked) | set(outcomes) | set(switches))
    health = []
    for name in names:
        last = session.scalar(
            select(Message.updated_at)
            .where(Message.target == name, Message.state == MessageState.SUCCEEDED.value)
            .order_by(Message.created_at.desc())
            .limit(1)
        )
        switch = switches.get(name)
        count, waiting_since = backlog.get(name, (0, None))
        health.append(
            TargetHealth(
                target=name,
                paused=bool(switch and switch.paused),
                pause_reason=switch.reason if switch and switch.paused else None,
                backlog=count,
                oldest_waiting=waiting_since,
                parked=parked.get(name, 0),
                recent_ok=outcomes[name][0],
                recent_failed=outcomes[name][1],
                last_success=_aware_utc(last) if last else None,
            )
        )
    return health


def dashboard(
    session: Session,
    *,
    topology: Topology | None = None,
    now: datetime | None = None,
    window_minutes: int = 60,
) -> Dashboard:
    """The dashboard's figures; each query is bounded by the window or reads a small, indexed set."""
    now = now or utcnow()
    since = now - timedelta(minutes=window_minutes)
    dialect = session.get_bind().dialect.name
    minute = _minute(Message.created_at, dialect)
    failed_col = func.sum(case((Message.state.in_(FAILED_STATES), 1), else_=0))
    counts: dict[datetime, tuple[int, int]] = {}
    for bucket, total, failed in session.execute(
        select(minute, func.count(), failed_col).where(Message.created_at >= since).group_by(minute)
    ):
        counts[_aware_utc(bucket if isinstance(bucket, datetime) else datetime.fromisoformat(bucket))] = (
            int(total),
            int(failed or 0),
        )
    start = since.replace(second=0, microsecond=0)
    per_minute = []
    for i in range(window_minutes + 1):
        m = start + timedelta(minutes=i)
        total, failed = counts.get(m, (0, 0))
        per_minute.append((m, total - failed, failed))
    known = list(topology.spec.targets) if topology else []
    targets = targets_health(session, now=now, known=known, recent=RECENT)
    parked = [
        (error or "—", target or "—", int(count))
        for error, target, count in session.execute(
            select(Message.error_class, Message.target, func.count())
            .where(Message.state == MessageState.PARKED.value)
            .group_by(Message.error_class, Message.target)
            .order_by(func.count().desc())
        )
    ]
    lags = []
    for wm in session.scalars(select(Watermark).order_by(Watermark.system, Watermark.unit_code)):
        name, level = wm.unit_code, "—"
        if topology is not None:
            unit = next((u for u in topology.units if u.code == wm.unit_code), None)
            if unit is not None:
                name, level = unit.name, unit.level.value
        lags.append(UnitLag(wm.system, wm.unit_code, name, level, wm.value, (now - wm.value).total_seconds()))
    return Dashboard(
        now=now,
        window_minutes=window_minutes,
        per_minute=per_minute,
        total=sum(v[0] for v in counts.values()),
        failed=sum(v[1] for v in counts.values()),
        targets=targets,
        parked_by_error=parked,
        lags=lags,
        schedules=jobs_in(session),
        incidents=list(
            session.scalars(select(Incident).where(Incident.state == "open").order_by(Incident.opened_at.desc()))
        ),
    )


# Audit actions whose username is whatever was typed into the sign-in form: often a password typed in the wrong box.
TYPED_NAME_ACTIONS = frozenset({"login.failed", "login.throttled", "login.unlock"})


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    username: str | None
    action: str
    subject: str | None
    details: dict[str, Any] | None
    client: str | None


def audit_entries(
    session: Session, *, typed_names: bool, before_id: int | None = None, limit: int = 100
) -> list[AuditRow]:
    """The newest audit entries; the names typed into failed sign-ins are shown only when ``typed_names``."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = []
    for a in session.scalars(query):
        hide = not typed_names and a.action in TYPED_NAME_ACTIONS
        rows.append(
            AuditRow(
                id=a.id,
                at=a.at,
                username=REDACTED if hide and a.username else a.username,
                action=a.action,
                subject=REDACTED if hide and a.subject else a.subject,
                details=a.details,
                client=a.client,
            )
        )
    return rows


def missing_mappings(session: Session) -> list[tuple[str, int]]:
    """Local procedure codes with messages parked for want of a national code, most parked first."""
    rows = session.execute(
        select(Message.procedure_code, func.count())
        .where(Message.error_class == "mapping_missing", Message.state == MessageState.PARKED.value)
        .group_by(Message.procedure_code)
        .order_by(func.count().desc())
    ).all()
    return [(code or "—", int(n)) for code, n in rows]


def _mapped_now(session: Session, local_code: str) -> str | None:
    """The national code the active mapping gives ``local_code``: a dossier stored before its procedure was mapped
    keeps None in its row, but its deliveries replayed since carry this code."""
    return session.scalar(
        select(ProcedureMapping.national_code).where(
            ProcedureMapping.local_code == local_code, ProcedureMapping.active.is_(True)
        )
    )
