"""The console's report pages and their JSON API: "Hồ sơ trễ hạn" (the late register with apology status),
"Chỉ số" (Decision 766 indicators, month over month), "Đối soát" (reconciliation runs, one click to a replay job)
and the monthly workbook download.

Every figure comes from :class:`reports.service.Reports`, the same functions ``dvc-hub report`` calls.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from console import charts
from console.auth import CurrentUser, Role
from console.deps import CsrfChecked, api_user, console, page_user
from console.rendering import render
from foundation.clock import vietnam_now
from foundation.redaction import REDACTED
from foundation.settings import get_settings
from foundation.topology import Level, load
from reports.apology import render as render_letter
from reports.labels import INDICATOR_COLUMNS, INDICATOR_DEFINITIONS, LEVELS
from reports.official import write_official
from reports.periods import Grain, Period, parse_period
from reports.reconciliation import RunOut, repair, runs
from reports.rules import load_rules
from reports.scores import GROUPS
from reports.service import IndicatorReport, LateFilter, LateReport, Reports, ScoreReport
from reports.workbook import write_monthly

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/reports", tags=["reports"])

PageViewer = Annotated[CurrentUser, Depends(page_user(Role.VIEWER))]
PageOperator = Annotated[CurrentUser, Depends(page_user(Role.OPERATOR))]
ApiOperator = Annotated[CurrentUser, Depends(api_user(Role.OPERATOR))]
ApiViewer = Annotated[CurrentUser, Depends(api_user(Role.VIEWER))]
PeriodQuery = Annotated[
    str | None, Query(max_length=10, description="2023-10-05, 2023-10, 2023-Q4 or 2023; this month by default")
]
PAGE_SIZE = 50  # register rows per page: 344 late dossiers once made a 25,000-pixel page
DossierCodePath = Annotated[str, PathParam(max_length=40, pattern=r"^[0-9A-Za-z.\-]{1,40}$")]
UnitQuery = Annotated[str | None, Query(max_length=8, pattern=r"^\d{1,6}$", description="a unit and those under it")]


def reports_of(request: Request) -> Reports:
    found = console(request)
    topology = found.topology or load(get_settings().topology_file)
    return Reports(found.db, topology, load_rules())


def period_of_request(text: str | None, source: Reports, now: datetime) -> Period:
    """The period asked for, else the month the store's newest knowledge falls in (as ``dvc-hub report`` does)."""
    if not text:
        return source.current_period(now)
    try:
        return parse_period(text)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


def as_seen_by(user: CurrentUser, report: LateReport) -> LateReport:
    """The register as ``user`` may read it: an apology's reason is free text an official typed, often naming the
    applicant, so a viewer gets it masked (as the dossier's own pages mask it)."""
    if user.sees_personal_data:
        return report
    rows = [
        row.model_copy(
            update={
                "extensions": tuple(
                    e.model_copy(update={"reason": REDACTED if e.reason else e.reason}) for e in row.extensions
                )
            }
        )
        for row in report.rows
    ]
    return report.model_copy(update={"rows": rows})


def late_now(request: Request, period: str | None) -> LateReport:
    """The dashboard's late figure, computed live by the register (not read from the nightly scan's table, which
    is only as fresh as its last run), for the period asked for or the current one, with its "as of" stamp."""
    source, now = reports_of(request), vietnam_now()
    return source.late(period_of_request(period, source, now), now)


@api.get("/late", response_model=LateReport)
def late_api(
    request: Request,
    user: ApiViewer,
    period: PeriodQuery = None,
    unit: UnitQuery = None,
    open: bool | None = None,
    apologised: bool | None = None,
    breaches: bool = False,
) -> LateReport:
    """The late-dossier register for a period (same as ``dvc-hub report late --json``)."""
    source, now = reports_of(request), vietnam_now()
    report = source.late(period_of_request(period, source, now), now, LateFilter(unit, open, apologised, breaches))
    return as_seen_by(user, report)


@api.get("/indicators", response_model=IndicatorReport)
def indicators_api(request: Request, user: ApiViewer, period: PeriodQuery = None) -> IndicatorReport:
    """The indicators per unit, level and province, with the period before (``dvc-hub report indicators --json``)."""
    source, now = reports_of(request), vietnam_now()
    return source.indicators(period_of_request(period, source, now), now)


@api.get("/scores", response_model=ScoreReport)
def scores_api(request: Request, user: ApiViewer, period: PeriodQuery = None) -> ScoreReport:
    """Decision 766 points per group and in total, with rank and 12-month trend (``dvc-hub report scores --json``)."""
    source, now = reports_of(request), vietnam_now()
    return source.scores(period_of_request(period, source, now), now)


@pages.get("/reports/late", response_class=HTMLResponse)
def late_page(
    request: Request,
    user: PageViewer,
    period: PeriodQuery = None,
    unit: Annotated[str | None, Query(max_length=8)] = None,
    state: Annotated[str | None, Query(pattern="^(open|finished)?$")] = None,
    apology: Annotated[str | None, Query(pattern="^(yes|no)?$")] = None,
    breaches: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    source, now = reports_of(request), vietnam_now()
    span = period_of_request(period, source, now) if period else source.register_month(now)
    where = LateFilter(
        unit or None,
        {"open": True, "finished": False}.get(state or ""),
        {"yes": True, "no": False}.get(apology or ""),
        breaches,
    )
    report = as_seen_by(user, source.late(span, now, where))
    params = {"period": span.label, "unit": unit or "", "state": state or "", "apology": apology or ""}
    pages = max(1, -(-len(report.rows) // PAGE_SIZE))
    shown = min(page, pages)
    return render(
        request,
        "late.html",
        {
            "r": report,
            "params": params,
            "breaches": breaches,
            "summary": report.summary(),
            "late_chart": charts.bars(
                [(f"{place.name} ({place.code})", count) for place, count, _ in report.by_unit()]
            ),
            "rows": report.rows[(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE],
            "page": shown,
            "pages": pages,
            "query": urlencode(params | ({"breaches": "true"} if breaches else {})),
            "operator": user.can(Role.OPERATOR),
        },
    )


@pages.get("/reports/late/{code}/apology.docx", response_class=FileResponse)
def apology_letter(request: Request, code: DossierCodePath, user: PageOperator) -> FileResponse:
    """The apology letter of a late dossier, pre-filled, for an operator to print and sign (it names the applicant,
    so viewers do not get it)."""
    source = reports_of(request)
    found = source.letter(code, vietnam_now())
    if found is None:
        raise HTTPException(status_code=404, detail="hồ sơ không có hoặc không trễ hạn (not late or unknown)")
    folder = Path(tempfile.mkdtemp(prefix="dvc-hub-letter-"))
    path = render_letter(found, folder / f"phieu-xin-loi-{code}.docx")
    return FileResponse(
        path,
        filename=path.name,
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        background=BackgroundTask(_remove, folder),
    )


@pages.get("/reports/indicators", response_class=HTMLResponse)
def indicators_page(request: Request, user: PageViewer, period: PeriodQuery = None) -> HTMLResponse:
    source, now = reports_of(request), vietnam_now()
    span = period_of_request(period, source, now)
    report = source.indicators(span, now)
    before = {(r.scope, r.key): r for r in report.previous}

    def label(scope: str, key: str, name: str) -> str:
        if scope == "all":
            return "Toàn tỉnh"
        return LEVELS.get(next((r.level for r in report.rows if r.key == key), None), key) if scope == "level" else name

    def pairs(field: str) -> list[tuple[str, float | None, float | None]]:
        return [
            (label(r.scope, r.key, r.name), getattr(before.get((r.scope, r.key)), field, None), getattr(r, field))
            for r in report.rows
        ]

    return render(
        request,
        "indicators.html",
        {
            "r": report,
            "period": span,
            "columns": INDICATOR_COLUMNS,
            "definitions": INDICATOR_DEFINITIONS,
            "label": label,
            "online_chart": charts.paired_bars(pairs("online_rate")),
            "on_time_chart": charts.paired_bars(pairs("on_time_rate")),
            "sync_chart": charts.paired_bars(pairs("sync_coverage")),
        },
    )


@pages.get("/reports/scores", response_class=HTMLResponse)
def scores_page(request: Request, user: PageViewer, period: PeriodQuery = None) -> HTMLResponse:
    source, now = reports_of(request), vietnam_now()
    span = period_of_request(period, source, now)
    report = source.scores(span, now)

    def label(scope: str, level: Level | None, name: str, key: str) -> str:
        if scope == "all":
            return "Toàn tỉnh"
        return LEVELS.get(level, key) if scope == "level" else f"{name} ({key})"

    return render(
        request,
        "scores.html",
        {"r": report, "period": span, "groups": GROUPS, "label": label, "spark": charts.sparkline},
    )


@pages.get("/reports/monthly.xlsx", response_class=FileResponse)
def monthly_workbook(request: Request, user: PageViewer, month: PeriodQuery = None) -> FileResponse:
    source, now = reports_of(request), vietnam_now()
    span = period_of_request(month, source, now)
    if span.grain is not Grain.MONTH:
        raise HTTPException(status_code=422, detail="cần một tháng, ví dụ 2023-10 (a month is needed)")
    folder = Path(tempfile.mkdtemp(prefix="dvc-hub-report-"))
    path = write_monthly(
        folder / f"bao-cao-{span.label}.xlsx",
        province=source.topology.name,
        period=span,
        indicators=source.indicators(span, now),
        late=as_seen_by(user, source.late(span, now)),
        now=now,
        scores=source.scores(span, now),
    )
    return FileResponse(
        path,
        filename=path.name,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(_remove, folder),
    )


@pages.get("/reports/forms.xlsx", response_class=FileResponse)
def official_workbook(request: Request, user: PageViewer, period: PeriodQuery = None) -> FileResponse:
    """The official forms per level and the late register (no personal data on them: the same for every role)."""
    source, now = reports_of(request), vietnam_now()
    span = period_of_request(period, source, now)
    folder = Path(tempfile.mkdtemp(prefix="dvc-hub-forms-"))
    path = write_official(
        folder / f"bieu-mau-{span.label}.xlsx",
        topology=source.topology,
        period=span,
        forms=source.forms(span, now),
        late=source.late(span, now),
        now=now,
    )
    return FileResponse(
        path,
        filename=path.name,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


# --- reconciliation ---------------------------------------------------------------------------------------------

# Within BIGINT, so a huge run id is a 422 on the page as on the API, not a database overflow.
RunId = Annotated[int, PathParam(ge=1, le=2**62)]


class RepairOut(BaseModel):
    run_id: int
    replay_job_id: int | None = Field(description="the counted replay job to start; null when nothing to repair")


@api.get("/reconciliation", response_model=list[RunOut])
def reconciliation_api(request: Request, user: ApiViewer, unit: UnitQuery = None) -> list[RunOut]:
    """The newest reconciliation runs and their differences (``dvc-hub reconcile`` makes them)."""
    return runs(console(request).db, unit_code=unit)


@api.post("/reconciliation/{run_id}/repair", response_model=RepairOut, dependencies=[CsrfChecked])
def repair_api(request: Request, run_id: RunId, user: ApiOperator) -> RepairOut:
    """Turn a run's missing and mismatched dossiers into a replay job (counted; start it like any replay job)."""
    job_id = repair(console(request).db, run_id, user=user.username)
    return RepairOut(run_id=run_id, replay_job_id=job_id)


@pages.get("/reports/reconciliation", response_class=HTMLResponse)
def reconciliation_page(request: Request, user: PageViewer, unit: UnitQuery = None) -> HTMLResponse:
    return render(
        request,
        "reconciliation.html",
        {"runs": runs(console(request).db, unit_code=unit), "unit": unit or "", "flash": request.query_params},
    )


@pages.post("/reports/reconciliation/{run_id}/repair", dependencies=[CsrfChecked])
def repair_page(request: Request, run_id: RunId, user: PageOperator) -> RedirectResponse:
    job_id = repair(console(request).db, run_id, user=user.username)
    if job_id is None:
        return RedirectResponse("/reports/reconciliation?nothing=1", status_code=303)
    return RedirectResponse(f"/replay?created={job_id}", status_code=303)
