"""The late-dossier and apology register (sổ theo dõi hồ sơ trễ hạn và văn bản xin lỗi).

Rules (``../shared/domain/rules-and-indicators.md``, thresholds in :class:`reports.rules.Rules`):

- The appointment that counts is the **first** one given at receipt. A dossier is late when it finished after that
  day, or is still open past it; an apology with a new date does not make it on time.
- An extension (apology and new appointment) travels in a supplement round as ``NgayHenTraTruoc`` (old) and
  ``NgayHenTraMoi`` (new); it is *in time* when issued at least ``apology_margin_days`` before the first appointment.
- A late dossier with no extension is a breach (**late without apology**); so is an extension issued after the
  first appointment had already passed (**apology after the deadline**).
- The delay is attributed to the first progress step that finished after its own due time (``NgayKetThucTheoQuyDinh``),
  and to that step's unit; an extension to the step in progress when it was issued.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, computed_field

from mappings.canonical import Dossier, ProgressEntry, SupplementRound, parse_dossier_code
from mappings.codes import Status
from reports.places import Place, Placer
from reports.rules import Rules


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class Extension(_Row):
    """One apology with a new appointment (form 04): old and new date, who caused it, why, when it was issued."""

    previous_appointment: date
    new_appointment: date
    issued_at: datetime | None
    unit_code: str | None
    step: str | None
    reason: str | None
    in_time: bool


# Refused, withdrawn and stopped dossiers were never processed to a result: no deadline can be missed.
DROPPED = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED})


@dataclass(frozen=True, slots=True)
class Facts:
    """A dossier as reports need it: the canonical data plus what only the hub's history knows."""

    dossier: Dossier
    first_appointment: datetime | None  # the appointment of the first version the hub accepted
    delivered_version: int | None = None  # the newest hub version delivered to the national portal
    hub_version: int = 1  # the hub's current version of the dossier
    changed_at: datetime | None = None  # when the hub accepted its current version


class RegisterRow(_Row):
    """One late dossier: where it counts, its first and current appointment, its delay and its apologies."""

    dossier_code: str
    receiving_unit: str
    unit: Place
    procedure_code: str
    procedure_name: str
    status: int
    first_appointment: date
    current_appointment: date | None
    finished_on: date | None
    days_late: int
    delay_unit: str | None
    delay_step: str | None
    extensions: tuple[Extension, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def open(self) -> bool:
        return self.finished_on is None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def apologised(self) -> bool:
        return bool(self.extensions)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def late_without_apology(self) -> bool:
        """The breach that gets an official reprimanded: late, and no apology with a new date."""
        return not self.extensions

    @computed_field  # type: ignore[prop-decorator]
    @property
    def apology_after_deadline(self) -> bool:
        return any(not e.in_time for e in self.extensions)


def received_on(dossier: Dossier) -> date:
    """The day the dossier was received: its receipt time, or the date in its code."""
    if dossier.received_at is not None:
        return dossier.received_at.date()
    return parse_dossier_code(dossier.code).received_on


def finished_on(dossier: Dossier) -> date | None:
    """The day processing ended: NgayKetThucXuLy, else the return day, else the last change of a closed dossier."""
    for moment in (dossier.finished_at, dossier.returned_at):
        if moment is not None:
            return moment.date()
    if dossier.status in (Status.DONE, Status.RETURNED):
        return dossier.updated_at.date()
    return None


def first_appointment(facts: Facts) -> datetime | None:
    """The appointment given at receipt: the oldest extension's old date, else the first version's appointment."""
    extensions = _extension_rounds(facts.dossier)
    if extensions:
        earliest = extensions[0].previous_appointment
        if earliest is not None:
            return earliest
    return facts.first_appointment or facts.dossier.appointment_at


def extensions(dossier: Dossier, first: date, rules: Rules) -> tuple[Extension, ...]:
    """Every extension of the dossier, oldest first, with the step it is attributed to."""
    deadline = first - timedelta(days=rules.apology_margin_days)
    found: list[Extension] = []
    for round_ in _extension_rounds(dossier):
        old, new = round_.previous_appointment, round_.new_appointment
        if old is None or new is None:
            continue
        step = _step_at(dossier.progress, round_.requested_at) if round_.requested_at else None
        found.append(
            Extension(
                previous_appointment=old.date(),
                new_appointment=new.date(),
                issued_at=round_.requested_at,
                unit_code=_unit_of(step, dossier),
                step=_step_name(step),
                reason=round_.content,
                in_time=round_.requested_at is not None and round_.requested_at.date() <= deadline,
            )
        )
    return tuple(found)


def row_for(facts: Facts, today: date, placer: Placer, rules: Rules) -> RegisterRow | None:
    """The register row of a dossier late on ``today``, or None when it is not late (or has no appointment)."""
    dossier = facts.dossier
    first = first_appointment(facts)
    if first is None or dossier.status in DROPPED:
        return None
    due = first.date()
    ended = finished_on(dossier)
    if ended is not None and ended > today:
        ended = None  # judged on a past day: it was still open then
    days_late = ((ended or today) - due).days
    if days_late <= 0:
        return None
    late_step = next((e for e in dossier.progress if e.step_due_at is not None and e.at > e.step_due_at), None)
    return RegisterRow(
        dossier_code=dossier.code,
        receiving_unit=dossier.receiving_unit,
        unit=placer.place(dossier.receiving_unit, received_on(dossier)),
        procedure_code=dossier.national_procedure_code or dossier.local_procedure_code,
        procedure_name=dossier.procedure_name,
        status=int(dossier.status),
        first_appointment=due,
        current_appointment=dossier.appointment_at.date() if dossier.appointment_at else None,
        finished_on=ended,
        days_late=days_late,
        delay_unit=_unit_of(late_step, dossier),
        delay_step=_step_name(late_step),
        extensions=extensions(dossier, due, rules),
    )


def register(facts: Iterable[Facts], today: date, placer: Placer, rules: Rules) -> list[RegisterRow]:
    """Every dossier late on ``today``, most days late first."""
    rows = [row for f in facts if (row := row_for(f, today, placer, rules)) is not None]
    rows.sort(key=lambda r: (-r.days_late, r.dossier_code))
    return rows


def _extension_rounds(dossier: Dossier) -> list[SupplementRound]:
    rounds = [s for s in dossier.supplements if s.previous_appointment is not None and s.new_appointment is not None]
    rounds.sort(key=lambda s: s.requested_at or s.previous_appointment or dossier.updated_at)
    return rounds


def _step_at(progress: tuple[ProgressEntry, ...], moment: datetime) -> ProgressEntry | None:
    """The step in progress at ``moment``: the latest step that had started (or been recorded) by then."""
    started = [e for e in progress if (e.step_started_at or e.at) <= moment]
    return max(started, key=lambda e: e.step_started_at or e.at) if started else None


def _unit_of(step: ProgressEntry | None, dossier: Dossier) -> str | None:
    if step is not None and step.unit_code is not None:
        return step.unit_code
    return dossier.processing_unit or dossier.receiving_unit


def _step_name(step: ProgressEntry | None) -> str | None:
    if step is None:
        return None
    return step.department or step.content
