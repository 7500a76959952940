"""The JSON API under ``/api/v1``: what the console shows, for scripts and the CLI's remote use.

Sign in with ``POST /api/v1/session`` and send the token as ``Authorization: Bearer ...``; ``DELETE /api/v1/session``
ends it. Viewers get the same redacted view as in the browser; replays and pauses need the operator role; sign-in
lockouts are listed and lifted by admins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import actions, queries
from console.auth import CurrentUser, Role, SignInRefused, UserError, blocked_keys, close_session, lift_block, sign_in
from console.deps import CsrfChecked, api_user, bearer_token, client_of, console, db_session, session_token
from console.models import Incident
from console.queries import BoundedDatetime, JobFilter
from console.reports import PeriodQuery, late_now
from foundation.clock import utcnow
from hub.store.models import Message, MessageState, ReplayJob

router = APIRouter(prefix="/api/v1", tags=["v1"])

Viewer = Annotated[CurrentUser, Depends(api_user(Role.VIEWER))]
Operator = Annotated[CurrentUser, Depends(api_user(Role.OPERATOR))]
Admin = Annotated[CurrentUser, Depends(api_user(Role.ADMIN))]
DbSession = Annotated[Session, Depends(db_session)]
MessageId = Annotated[int, Path(ge=1, le=2**62)]
JobId = Annotated[int, Path(ge=1, le=2**62)]
Name = Annotated[str, Path(min_length=1, max_length=60)]


class Problem(BaseModel):
    detail: str


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, max_length=500)
    totp: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$", description="the authenticator code, if set")


class SessionToken(BaseModel):
    token: str
    username: str
    role: Role


class SearchOut(BaseModel):
    messages: list[queries.MessageRow]
    next_before_id: int | None = Field(description="pass as before_id for the next (older) page")
    since: datetime | None
    until: datetime | None


class AttemptOut(BaseModel):
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


class MessageDetail(BaseModel):
    message: queries.MessageRow
    payload: dict[str, Any] | None
    result: dict[str, Any] | None
    remote_message: str | None
    attempts: list[AttemptOut]


class ChangeOut(BaseModel):
    path: str
    old: Any
    new: Any


class VersionOut(BaseModel):
    version: int
    status: int
    source_updated_at: datetime
    recorded_at: datetime
    message_id: int | None
    changes: list[ChangeOut]


class TimelineOut(BaseModel):
    code: str
    dossier: dict[str, Any] | None
    targets: list[str]
    versions: list[VersionOut]
    messages: list[MessageDetail]


class TargetOut(BaseModel):
    target: str
    paused: bool
    pause_reason: str | None
    backlog: int
    oldest_waiting: datetime | None
    parked: int
    recent_succeeded: int
    recent_failed: int
    error_rate: float
    circuit: Literal["open", "half-open", "closed"]
    last_success: datetime | None


class DashboardOut(BaseModel):
    now: datetime
    window_minutes: int
    total: int
    failed: int
    failure_rate: float
    per_minute: list[tuple[datetime, int, int]]
    targets: list[TargetOut]
    parked_by_error: list[tuple[str, str, int]]
    late_total: int = Field(description="late dossiers of late_period, computed live by the register")
    late_period: str
    late_as_of: datetime = Field(description="the moment late_total is judged at (Vietnam time)")
    late_as_of_text: str = Field(description='the same, as every report prints it: "tính đến 17:00 ngày 31/10/2023"')
    open_incidents: int


class IncidentOut(BaseModel):
    id: int
    key: str
    kind: str
    subject: str
    state: str
    summary: str
    details: dict[str, Any] | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class AuditOut(BaseModel):
    id: int
    at: datetime
    username: str | None
    action: str
    subject: str | None
    details: dict[str, Any] | None
    client: str | None


class ReplayRequest(BaseModel):
    mode: Literal["original", "fresh"] = "original"


class ReplayOut(BaseModel):
    message_id: int = Field(description="the new message, linked to the original by replay_of")


class JobRequest(BaseModel):
    filter: JobFilter
    mode: Literal["original", "fresh"] = "original"
    start: bool = Field(default=False, description="start at once; otherwise the job waits, counted, for a start")


class CountOut(BaseModel):
    count: int


class JobOut(BaseModel):
    job_id: int
    progress: dict[str, Any]


class PauseRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class Done(BaseModel):
    ok: bool = True


class LockoutOut(BaseModel):
    id: int
    kind: Literal["username", "client", "pair"]
    value: str
    failures: int
    locked: bool
    last_failure_at: datetime
    blocked_until: datetime | None


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": Problem}, 403: {"model": Problem}}


@router.post("/session", response_model=SessionToken, responses={401: {"model": Problem}, 429: {"model": Problem}})
def create_session(request: Request, body: Credentials) -> SessionToken:
    """Exchange a username and password (and TOTP code, if set) for a session token (send it as a bearer token).
    Repeated failures make the username at this address, and the address, wait (429 with Retry-After); failures
    from several addresses lock the account."""
    c = console(request)
    try:
        signed = sign_in(
            c.db, body.username, body.password, client=client_of(request), policy=c.throttle, totp=body.totp
        )
    except SignInRefused as refused:
        wait = refused.retry_after_seconds
        if wait:
            raise HTTPException(
                status_code=429,
                detail=f"Đăng nhập sai quá nhiều lần, thử lại sau {wait} giây (too many failures, retry in {wait} s)",
                headers={"Retry-After": str(wait)},
            ) from refused
        raise HTTPException(
            status_code=401, detail="Sai tên đăng nhập hoặc mật khẩu (wrong username or password)"
        ) from refused
    return SessionToken(token=signed.token, username=signed.username, role=signed.role)


@router.delete("/session", status_code=204, responses=AUTH_ERRORS, dependencies=[CsrfChecked])
def end_session(request: Request, user: Viewer) -> Response:
    """Sign out: the token stops working at once."""
    with console(request).db.session() as session:
        close_session(session, bearer_token(request) or session_token(request))
    return Response(status_code=204)


@router.get("/lockouts", response_model=list[LockoutOut], responses=AUTH_ERRORS)
def lockouts(user: Admin, session: DbSession) -> list[LockoutOut]:
    """Usernames and client addresses that must wait before signing in again (admin)."""
    return [LockoutOut.model_validate(b, from_attributes=True) for b in blocked_keys(session)]


@router.delete(
    "/lockouts/{lockout_id}",
    status_code=204,
    responses={**AUTH_ERRORS, 404: {"model": Problem}},
    dependencies=[CsrfChecked],
)
def lift_lockout(request: Request, lockout_id: JobId, user: Admin) -> Response:
    """Lift a sign-in lockout or delay at once (admin)."""
    try:
        with console(request).db.session() as session:
            lift_block(session, lockout_id, actor=user.username, client=client_of(request))
    except UserError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return Response(status_code=204)


@router.get("/messages", response_model=SearchOut, responses=AUTH_ERRORS)
def search_messages(
    user: Viewer,
    session: DbSession,
    dossier_code: Annotated[str | None, Query(max_length=40)] = None,
    unit_code: Annotated[str | None, Query(max_length=8)] = None,
    procedure_code: Annotated[str | None, Query(max_length=120)] = None,
    target: Annotated[str | None, Query(max_length=60)] = None,
    state: MessageState | None = None,
    error_class: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[BoundedDatetime | None, Query()] = None,
    until: Annotated[BoundedDatetime | None, Query()] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.PAGE_MAX)] = 50,
) -> SearchOut:
    """Search the integration log, newest first; an exact dossier code searches all time, otherwise today."""
    flt = queries.SearchFilter(
        dossier_code=dossier_code,
        unit_code=unit_code,
        procedure_code=procedure_code,
        target=target,
        state=state,
        error_class=error_class,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
    page = queries.search(session, flt, personal=user.sees_personal_data)
    return SearchOut(
        messages=page.rows,
        next_before_id=page.next_before_id,
        since=page.since,
        until=page.until,
    )


def _detail(view: queries.MessageView) -> MessageDetail:
    return MessageDetail(
        message=view.row,
        payload=view.payload,
        result=view.result,
        remote_message=view.remote_message,
        attempts=[AttemptOut.model_validate(a, from_attributes=True) for a in view.attempts],
    )


@router.get("/messages/{message_id}", response_model=MessageDetail, responses={**AUTH_ERRORS, 404: {"model": Problem}})
def get_message(message_id: MessageId, user: Viewer, session: DbSession) -> MessageDetail:
    """One message with its attempts; payloads are redacted for viewers."""
    row = session.get(Message, message_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"Không có thông điệp {message_id} (no such message)")
    return _detail(queries.message_view(session, row, personal=user.sees_personal_data))


@router.get("/dossiers/{code}", response_model=TimelineOut, responses={**AUTH_ERRORS, 404: {"model": Problem}})
def get_dossier(
    code: Annotated[str, Path(min_length=1, max_length=40)], user: Viewer, session: DbSession
) -> TimelineOut:
    """A dossier's timeline: its messages and attempts across targets, and what changed between versions."""
    tl = queries.timeline(session, code, personal=user.sees_personal_data)
    if tl is None:
        raise HTTPException(status_code=404, detail=f"Không tìm thấy hồ sơ {code} (dossier not found)")
    return TimelineOut(
        code=tl.code,
        dossier=tl.dossier,
        targets=tl.targets,
        versions=[
            VersionOut(
                version=v.version,
                status=v.status,
                source_updated_at=v.source_updated_at,
                recorded_at=v.recorded_at,
                message_id=v.message_id,
                changes=[ChangeOut(path=c.path, old=c.old, new=c.new) for c in v.changes],
            )
            for v in tl.versions
        ],
        messages=[_detail(m) for m in tl.messages],
    )


@router.post(
    "/messages/{message_id}/replay",
    response_model=ReplayOut,
    responses={**AUTH_ERRORS, 404: {"model": Problem}, 409: {"model": Problem}},
    dependencies=[CsrfChecked],
)
def replay_message(request: Request, message_id: MessageId, body: ReplayRequest, user: Operator) -> ReplayOut:
    """Replay one message (operator)."""
    db = console(request).db
    with db.session() as session:
        if session.get(Message, message_id) is None:
            raise HTTPException(status_code=404, detail=f"Không có thông điệp {message_id} (no such message)")
    new_id = actions.replay_message(db, message_id, mode=body.mode, user=user.username, client=client_of(request))
    return ReplayOut(message_id=new_id)


@router.post(
    "/replay-jobs/count", response_model=CountOut, responses={**AUTH_ERRORS, 422: {}}, dependencies=[CsrfChecked]
)
def count_replay(request: Request, body: JobFilter, user: Operator) -> CountOut:
    """Dry run: how many messages a replay job over this filter would send again."""
    return CountOut(count=actions.dry_run(console(request).db, body.model_dump(exclude_none=True, mode="json")))


@router.post("/replay-jobs", response_model=JobOut, responses=AUTH_ERRORS, dependencies=[CsrfChecked])
def create_job(request: Request, body: JobRequest, user: Operator) -> JobOut:
    """Create a replay job (counted); start it now or later with /start."""
    db = console(request).db
    flt = body.filter.model_dump(exclude_none=True, mode="json")
    job_id = actions.create_replay_job(db, flt, mode=body.mode, user=user.username, client=client_of(request))
    if body.start:
        actions.control_job(db, job_id, "start", user=user.username, client=client_of(request))
    return JobOut(job_id=job_id, progress=actions.job_progress(db, job_id))


@router.get("/replay-jobs/{job_id}", response_model=JobOut, responses={**AUTH_ERRORS, 404: {"model": Problem}})
def job_progress(request: Request, job_id: JobId, user: Viewer) -> JobOut:
    db = console(request).db
    with db.session() as session:
        if session.get(ReplayJob, job_id) is None:
            raise HTTPException(status_code=404, detail=f"Không có lệnh chạy lại {job_id} (no such replay job)")
    return JobOut(job_id=job_id, progress=actions.job_progress(db, job_id))


@router.post(
    "/replay-jobs/{job_id}/{verb}",
    response_model=JobOut,
    responses={**AUTH_ERRORS, 404: {"model": Problem}},
    dependencies=[CsrfChecked],
)
def control_job(request: Request, job_id: JobId, verb: Literal["start", "pause", "cancel"], user: Operator) -> JobOut:
    """Start (or resume), pause or cancel a replay job."""
    db = console(request).db
    with db.session() as session:
        if session.get(ReplayJob, job_id) is None:
            raise HTTPException(status_code=404, detail=f"Không có lệnh chạy lại {job_id} (no such replay job)")
    actions.control_job(db, job_id, verb, user=user.username, client=client_of(request))
    return JobOut(job_id=job_id, progress=actions.job_progress(db, job_id))


@router.get("/dashboard", response_model=DashboardOut, responses=AUTH_ERRORS)
def dashboard(request: Request, user: Viewer, session: DbSession, period: PeriodQuery = None) -> DashboardOut:
    d = queries.dashboard(session, topology=console(request).topology)
    late = late_now(request, period)
    return DashboardOut(
        now=d.now,
        window_minutes=d.window_minutes,
        total=d.total,
        failed=d.failed,
        failure_rate=d.failure_rate,
        per_minute=d.per_minute,
        targets=[_target(t) for t in d.targets],
        parked_by_error=d.parked_by_error,
        late_total=len(late.rows),
        late_period=late.period,
        late_as_of=late.as_of,
        late_as_of_text=late.as_of_text,
        open_incidents=len(d.incidents),
    )


def _target(t: queries.TargetHealth) -> TargetOut:
    return TargetOut(
        target=t.target,
        paused=t.paused,
        pause_reason=t.pause_reason,
        backlog=t.backlog,
        oldest_waiting=t.oldest_waiting,
        parked=t.parked,
        recent_succeeded=t.recent_ok,
        recent_failed=t.recent_failed,
        error_rate=t.error_rate,
        circuit=t.circuit,
        last_success=t.last_success,
    )


@router.get("/targets", response_model=list[TargetOut], responses=AUTH_ERRORS)
def targets(user: Viewer, session: DbSession) -> list[TargetOut]:
    """Connector health per target: backlog, parked, recent error rate, derived circuit, last success."""
    return [_target(t) for t in queries.targets_health(session, now=utcnow(), known=[], recent=queries.RECENT)]


@router.post("/targets/{target}/pause", response_model=Done, responses=AUTH_ERRORS, dependencies=[CsrfChecked])
def pause_target(request: Request, target: Name, body: PauseRequest, user: Operator) -> Done:
    """Hold deliveries to a target (operator)."""
    actions.pause_target(console(request).db, target, reason=body.reason, user=user.username)
    return Done()


@router.post("/targets/{target}/resume", response_model=Done, responses=AUTH_ERRORS, dependencies=[CsrfChecked])
def resume_target(request: Request, target: Name, user: Operator) -> Done:
    """Resume deliveries to a target and send what was held (operator)."""
    actions.resume_target(console(request).db, target, user=user.username)
    return Done()


@router.get("/incidents", response_model=list[IncidentOut], responses=AUTH_ERRORS)
def incidents(user: Viewer, session: DbSession, state: Literal["open", "closed"] | None = None) -> list[IncidentOut]:
    query = select(Incident).order_by(Incident.id.desc()).limit(200)
    if state is not None:
        query = query.where(Incident.state == state)
    return [IncidentOut.model_validate(i, from_attributes=True) for i in session.scalars(query)]


@router.get("/audit", response_model=list[AuditOut], responses=AUTH_ERRORS)
def audit(
    user: Viewer,
    session: DbSession,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditOut]:
    return [
        AuditOut.model_validate(a, from_attributes=True)
        for a in queries.audit_entries(session, typed_names=user.can(Role.ADMIN), before_id=before_id, limit=limit)
    ]
