"""The console's server-rendered pages; every write is a POST form carrying the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import actions, alerts, charts, i18n, queries
from console.auth import (
    CurrentUser,
    Role,
    SignInRefused,
    UserError,
    blocked_keys,
    close_session,
    create_user,
    lift_block,
    password_context,
    set_disabled,
    sign_in,
)
from console.deps import (
    CsrfChecked,
    client_of,
    console,
    db_session,
    language_of,
    page_user,
    session_token,
)
from console.models import Incident, User
from console.rendering import render
from console.reports import PeriodQuery, late_now
from foundation.clock import vietnam_now
from foundation.topology import UnknownUnit
from foundation.vocabulary import Vocab, label
from hub import procedures
from hub.store.models import Message, MessageState, ReplayJob

router = APIRouter(include_in_schema=False)

Viewer = Annotated[CurrentUser, Depends(page_user(Role.VIEWER))]
Operator = Annotated[CurrentUser, Depends(page_user(Role.OPERATOR))]
Admin = Annotated[CurrentUser, Depends(page_user(Role.ADMIN))]
DbSession = Annotated[Session, Depends(db_session)]
# Ids in paths and cursors stay within BIGINT, so a huge number is a 422, not a database overflow.
RowId = Annotated[int, Path(ge=1, le=2**62)]


def _safe_next(value: str | None) -> str:
    # Only a path on this site: never an absolute or protocol-relative URL (open redirect).
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _back(url: str, **flash: str) -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    return RedirectResponse(url + (sep + urlencode(flash) if flash else ""), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "failed": False, "wait": None})


@router.post("/login", response_model=None, dependencies=[CsrfChecked])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=2000)] = "/",
    totp: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    c = console(request)
    try:
        signed = sign_in(c.db, username, password, client=client_of(request), policy=c.throttle, totp=totp or None)
    except SignInRefused as refused:
        wait = refused.retry_after_seconds
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "failed": True, "wait": wait},
            status_code=429 if wait else 401,
            headers={"Retry-After": str(wait)} if wait else None,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(c.session_cookie, signed.token, httponly=True, samesite="lax", secure=c.secure_cookies)
    # A fresh CSRF token after sign-in, so a token planted before it is worthless.
    response.delete_cookie(c.csrf_cookie, secure=c.secure_cookies, httponly=True, samesite="strict")
    return response


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> RedirectResponse:
    with console(request).db.session() as session:
        close_session(session, session_token(request))
    response = RedirectResponse("/login", status_code=303)
    c = console(request)
    response.delete_cookie(c.session_cookie, secure=c.secure_cookies, httponly=True)
    return response


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/") -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(i18n.COOKIE, i18n.language(code), max_age=365 * 86400, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, user: Viewer, session: DbSession, period: PeriodQuery = None) -> HTMLResponse:
    data = queries.dashboard(session, topology=console(request).topology)
    lang = language_of(request)
    return render(
        request,
        "dashboard.html",
        {
            "d": data,
            "late": late_now(request, period),
            "throughput_chart": charts.throughput(data.per_minute),
            "parked_chart": charts.bars(
                [(f"{label(Vocab.ERROR_CLASS, e, lang)} → {t}", n) for e, t, n in data.parked_by_error[:12]]
            ),
        },
    )


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, user: Viewer, session: DbSession) -> HTMLResponse:
    params = {k: v for k, v in request.query_params.items() if v != ""}
    error = None
    try:
        flt = queries.SearchFilter.model_validate(params)
    except ValidationError as exc:
        error = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        flt = queries.SearchFilter()
    topology = console(request).topology
    page = queries.SearchPage([], None, flt.since, flt.until)
    try:
        if flt.unit_code and topology is not None:
            topology.known_unit(flt.unit_code)
        page = queries.search(session, flt, personal=user.sees_personal_data)
    except UnknownUnit as exc:
        # a name or a typo is the operator's mistake, said as such, not an empty page that looks like "no data"
        error = str(exc)
    first_page = {k: v for k, v in params.items() if k != "before_id"}
    return render(
        request,
        "search.html",
        {
            "flt": flt,
            "page": page,
            "error": error,
            "states": [s.value for s in MessageState],
            "procedure_names": queries.procedure_names(session, (r.procedure_code for r in page.rows)),
            "older_url": "/search?" + urlencode({**first_page, "before_id": page.next_before_id})
            if page.next_before_id
            else None,
            "newest_url": "/search?" + urlencode(first_page) if flt.before_id else None,
        },
    )


@router.get("/dossiers/{code}", response_class=HTMLResponse)
def dossier(request: Request, code: str, user: Viewer, session: DbSession) -> HTMLResponse:
    tl = queries.timeline(session, code, personal=user.sees_personal_data)
    if tl is None:
        return render(request, "not_found.html", {"code": code}, status_code=404)
    return render(request, "timeline.html", {"tl": tl, "flash": request.query_params.get("flash")})


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message(request: Request, message_id: RowId, user: Viewer, session: DbSession) -> Response:
    row = session.get(Message, message_id)
    if row is None:
        return render(request, "not_found.html", {"code": f"#{message_id}"}, status_code=404)
    if row.dossier_code:
        return RedirectResponse(f"/dossiers/{quote(row.dossier_code)}#m{message_id}", status_code=303)
    view = queries.message_view(session, row, personal=user.sees_personal_data)
    return render(request, "message.html", {"m": view, "flash": request.query_params.get("flash")})


@router.post("/messages/{message_id}/replay", dependencies=[CsrfChecked])
def replay_message(
    request: Request,
    message_id: RowId,
    user: Operator,
    mode: Annotated[str, Form(pattern="^(original|fresh)$")] = "original",
) -> RedirectResponse:
    db = console(request).db
    with db.session() as session:
        code = session.scalar(select(Message.dossier_code).where(Message.id == message_id))
    new_id = actions.replay_message(db, message_id, mode=mode, user=user.username, client=client_of(request))
    where = f"/dossiers/{quote(code)}" if code else f"/messages/{new_id}"
    return _back(where, flash=f"replayed:{new_id}")


# --- replay jobs ------------------------------------------------------------------------------------------------

_JOB_FIELDS = ("since", "until", "target", "unit_code", "procedure_code", "error_class", "dossier_code", "state")


def _job_filter(form: dict[str, Any]) -> dict[str, Any]:
    """The form's filter fields, checked like the API's (bounded dates and lengths) before the hub sees them."""
    given = {k: v.strip() for k, v in form.items() if k in _JOB_FIELDS and isinstance(v, str) and v.strip()}
    try:
        checked: dict[str, Any] = queries.JobFilter.model_validate(given).model_dump(exclude_none=True, mode="json")
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise actions.ActionError(f"Bộ lọc không hợp lệ (invalid filter): {problems}") from exc
    return checked


@router.get("/replay", response_class=HTMLResponse)
def replay_jobs(request: Request, user: Viewer, session: DbSession) -> HTMLResponse:
    jobs = list(session.scalars(select(ReplayJob).order_by(ReplayJob.id.desc()).limit(50)))
    return render(
        request, "replay.html", {"jobs": jobs, "preview": None, "flt": {}, "flash": request.query_params.get("flash")}
    )


@router.post("/replay/preview", response_class=HTMLResponse, dependencies=[CsrfChecked])
async def replay_preview(request: Request, user: Operator) -> HTMLResponse:
    form = dict(await request.form())
    flt = _job_filter(form)
    count = actions.dry_run(console(request).db, flt)
    by_cause = actions.dry_run_causes(console(request).db, flt)
    with console(request).db.session() as session:
        jobs = list(session.scalars(select(ReplayJob).order_by(ReplayJob.id.desc()).limit(50)))
    mode = form.get("mode") if form.get("mode") in {"original", "fresh"} else "original"
    context = {"jobs": jobs, "preview": count, "causes": by_cause, "flt": flt, "mode": mode, "flash": None}
    return render(request, "replay.html", context)


@router.post("/replay/jobs", dependencies=[CsrfChecked])
async def replay_create(request: Request, user: Operator) -> RedirectResponse:
    form = dict(await request.form())
    mode = str(form.get("mode") or "original")
    db = console(request).db
    job_id = actions.create_replay_job(db, _job_filter(form), mode=mode, user=user.username, client=client_of(request))
    actions.control_job(db, job_id, "start", user=user.username, client=client_of(request))
    return _back("/replay", flash=f"job:{job_id}")


@router.post("/replay/jobs/{job_id}/{verb}", dependencies=[CsrfChecked])
def replay_control(request: Request, job_id: RowId, verb: str, user: Operator) -> RedirectResponse:
    actions.control_job(console(request).db, job_id, verb, user=user.username, client=client_of(request))
    return _back("/replay")


# --- operations ---------------------------------------------------------------------------------------------------


@router.get("/operations", response_class=HTMLResponse)
def operations(request: Request, user: Viewer, session: DbSession) -> HTMLResponse:
    data = queries.dashboard(session, topology=console(request).topology)
    return render(request, "operations.html", {"d": data})


@router.post("/targets/{target}/pause", dependencies=[CsrfChecked])
def pause_target(
    request: Request, target: str, user: Operator, reason: Annotated[str, Form(max_length=500)] = ""
) -> RedirectResponse:
    actions.pause_target(console(request).db, target, reason=reason, user=user.username)
    return _back("/operations")


@router.post("/targets/{target}/resume", dependencies=[CsrfChecked])
def resume_target(request: Request, target: str, user: Operator) -> RedirectResponse:
    actions.resume_target(console(request).db, target, user=user.username)
    return _back("/operations")


@router.post("/schedules/{job_id}/{verb}", dependencies=[CsrfChecked])
def schedule_control(request: Request, job_id: str, verb: str, user: Operator) -> RedirectResponse:
    db = console(request).db
    if verb == "pause":
        actions.pause_schedule(db, job_id, user=user.username)
    elif verb == "resume":
        actions.resume_schedule(db, job_id, user=user.username)
    return _back("/operations")


# --- alerts, audit, users ---------------------------------------------------------------------------------------


@router.get("/incidents", response_class=HTMLResponse)
def incidents(request: Request, user: Viewer, session: DbSession) -> HTMLResponse:
    rows = list(session.scalars(select(Incident).order_by(Incident.id.desc()).limit(200)))
    return render(request, "incidents.html", {"incidents": rows})


@router.post("/incidents/evaluate", dependencies=[CsrfChecked])
def evaluate_alerts(request: Request, user: Operator) -> RedirectResponse:
    c = console(request)
    alerts.evaluate(c.db, c.alerts)
    return _back("/incidents")


@router.get("/audit", response_class=HTMLResponse)
def audit(
    request: Request, user: Viewer, session: DbSession, before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None
) -> HTMLResponse:
    rows = queries.audit_entries(session, typed_names=user.can(Role.ADMIN), before_id=before_id)
    return render(request, "audit.html", {"rows": rows, "older": rows[-1].id if len(rows) == 100 else None})


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, user: Admin, session: DbSession) -> HTMLResponse:
    rows = list(session.scalars(select(User).order_by(User.username)))
    return render(
        request,
        "users.html",
        {"users": rows, "lockouts": blocked_keys(session), "error": request.query_params.get("error")},
    )


@router.post("/lockouts/{throttle_id}/lift", dependencies=[CsrfChecked])
def lift_lockout(request: Request, throttle_id: RowId, user: Admin) -> RedirectResponse:
    try:
        with console(request).db.session() as session:
            lift_block(session, throttle_id, actor=user.username, client=client_of(request))
    except UserError as exc:
        return _back("/users", error=str(exc))
    return _back("/users")


@router.post("/users", dependencies=[CsrfChecked])
def add_user(
    request: Request,
    user: Admin,
    username: Annotated[str, Form(max_length=120)],
    password: Annotated[str, Form(max_length=500)],
    role: Annotated[Role, Form()],
) -> RedirectResponse:
    try:
        with console(request).db.session() as session:
            context = password_context(console(request).topology, vietnam_now().year)
            create_user(session, username, password, role, actor=user.username, context=context)
    except UserError as exc:
        return _back("/users", error=str(exc))
    return _back("/users")


# One route per action: a catch-all "/users/{username}/{verb}" enabled a user on any verb but "disable".
@router.post("/users/{username}/enable", dependencies=[CsrfChecked])
def enable_user(request: Request, username: str, user: Admin) -> RedirectResponse:
    return _set_disabled(request, username, False, user)


@router.post("/users/{username}/disable", dependencies=[CsrfChecked])
def disable_user(request: Request, username: str, user: Admin) -> RedirectResponse:
    return _set_disabled(request, username, True, user)


def _set_disabled(request: Request, username: str, disabled: bool, user: CurrentUser) -> RedirectResponse:
    try:
        with console(request).db.session() as session:
            set_disabled(session, username, disabled, actor=user.username)
    except UserError as exc:
        return _back("/users", error=str(exc))
    return _back("/users")


# --- procedure-code mappings: fix, then replay ------------------------------------------------------------------


@router.get("/mappings", response_class=HTMLResponse)
def mappings(request: Request, user: Viewer, session: DbSession, local_code: str = "") -> HTMLResponse:
    missing = queries.missing_mappings(session)
    code = local_code.strip()
    history = procedures.history(console(request).db, code) if code else []
    return render(
        request,
        "mappings.html",
        {"missing": missing, "local_code": code, "history": history, "flash": request.query_params.get("flash")},
    )


@router.post("/mappings", dependencies=[CsrfChecked])
def save_mapping(
    request: Request,
    user: Admin,
    local_code: Annotated[str, Form(max_length=120)],
    national_code: Annotated[str, Form(max_length=120)],
    procedure_name: Annotated[str, Form(max_length=500)] = "",
    field_code: Annotated[str, Form(max_length=120)] = "",
    replay: Annotated[str, Form()] = "",
) -> RedirectResponse:
    version, job_id = actions.set_mapping(
        console(request).db,
        local_code,
        national_code,
        procedure_name=procedure_name or None,
        field_code=field_code or None,
        user=user.username,
        replay_parked=bool(replay),
        client=client_of(request),
    )
    flash = f"mapping:{version}" + (f":job:{job_id}" if job_id else "")
    return _back(f"/mappings?local_code={quote(local_code.strip())}", flash=flash)


@router.post("/mappings/import", dependencies=[CsrfChecked])
async def import_mappings(request: Request, user: Admin) -> RedirectResponse:
    form = await request.form()
    upload = form.get("file")
    content = (await upload.read()).decode("utf-8-sig") if upload is not None and not isinstance(upload, str) else ""
    counts = actions.import_mappings(console(request).db, content, user=user.username, client=client_of(request))
    return _back("/mappings", flash="import:" + ",".join(f"{k}={v}" for k, v in counts.items()))


@router.get("/mappings/export.csv")
def export_mappings(request: Request, user: Viewer) -> Response:
    return Response(
        procedures.export_csv(console(request).db),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="procedure-mappings.csv"'},
    )
