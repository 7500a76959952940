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

:func:`standing` is the one rule of where a dossier stands at the end of a day; the register lists the late ones and
the indicators (:mod:`reports.indicators`) count every kind, so their late counts cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

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


class LetterState(StrEnum):
    """Where a late dossier's apology letter (form 04) stands: the hub drafts one for every late dossier without
    an apology; one sent in time is issued; one sent after the first appointment's deadline is late."""

    DRAFTED = "drafted"
    ISSUED = "issued"
    LATE = "late"

    @property
    def label(self) -> str:
        return {"drafted": "Dự thảo, chưa phát hành", "issued": "Đã phát hành", "late": "Phát hành muộn"}[self.value]


class RegisterRow(_Row):
    """One late dossier: where it counts, its first and current appointment, its delay and its apologies."""

    dossier_code: str
    receiving_unit: str
    unit: Place
    procedure_code: str
    procedure_name: str
    status: int
    received_on: date
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def letter_state(self) -> LetterState:
        """The apology letter's state: drafted (none sent yet), issued (sent in time) or late (sent too late)."""
        if not self.extensions:
            return LetterState.DRAFTED
        return LetterState.LATE if self.apology_after_deadline else LetterState.ISSUED


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


class Standing(StrEnum):
    """Where a dossier stands at the end of the day a period is judged on (the names are the indicators' fields)."""

    FINISHED_EARLY = "finished_early"
    FINISHED_ON_TIME = "finished_on_time"
    FINISHED_LATE = "finished_late"
    DROPPED = "dropped"  # refused, withdrawn or stopped: closed without a result, no deadline missed
    OPEN_ON_TIME = "open_on_time"
    OPEN_LATE = "open_late"

    @property
    def late(self) -> bool:
        return self in (Standing.FINISHED_LATE, Standing.OPEN_LATE)


def closed_on(dossier: Dossier) -> date | None:
    """The day the dossier left the queue: finished, else (refused, withdrawn, stopped) its refusal or last change."""
    ended = finished_on(dossier)
    if ended is None and dossier.status in DROPPED:
        return (dossier.refused_at or dossier.updated_at).date()
    return ended


def standing(facts: Facts, start: date, judged_on: date) -> Standing | None:
    """Where the dossier stands at the end of ``judged_on`` for a period from ``start``; None when it is not in it.

    It is in it when received by ``judged_on`` and not closed before ``start``. A dossier closed after ``judged_on``
    was still open then. Finished ones are early, on time or late against the **first** appointment, by day; open
    ones are late once ``judged_on`` is past it. A dossier without an appointment is on time.
    """
    dossier = facts.dossier
    if received_on(dossier) > judged_on:
        return None
    closed = closed_on(dossier)
    if closed is not None and closed > judged_on:
        closed = None  # judged on a past day: it was still open then
    if closed is not None and closed < start:
        return None
    first = first_appointment(facts)
    due = first.date() if first is not None else None
    if closed is None:
        return Standing.OPEN_LATE if due is not None and judged_on > due else Standing.OPEN_ON_TIME
    if dossier.status in DROPPED:
        return Standing.DROPPED
    if due is None or closed == due:
        return Standing.FINISHED_ON_TIME
    return Standing.FINISHED_EARLY if closed < due else Standing.FINISHED_LATE


def row_for(facts: Facts, start: date, today: date, placer: Placer, rules: Rules) -> RegisterRow | None:
    """The register row of a dossier late on ``today`` in a period from ``start``, or None when it is not late."""
    dossier = facts.dossier
    where = standing(facts, start, today)
    first = first_appointment(facts)
    if where is None or not where.late or first is None:  # a late dossier always has a first appointment
        return None
    due = first.date()
    ended = None if where is Standing.OPEN_LATE else closed_on(dossier)
    days_late = ((ended or today) - due).days
    late_step = next((e for e in dossier.progress if e.step_due_at is not None and e.at > e.step_due_at), None)
    return RegisterRow(
        dossier_code=dossier.code,
        receiving_unit=dossier.receiving_unit,
        unit=placer.place(dossier.receiving_unit, received_on(dossier)),
        procedure_code=dossier.national_procedure_code or dossier.local_procedure_code,
        procedure_name=dossier.procedure_name,
        status=int(dossier.status),
        received_on=received_on(dossier),
        first_appointment=due,
        current_appointment=dossier.appointment_at.date() if dossier.appointment_at else None,
        finished_on=ended,
        days_late=days_late,
        delay_unit=_unit_of(late_step, dossier),
        delay_step=_step_name(late_step),
        extensions=extensions(dossier, due, rules),
    )


def register(facts: Iterable[Facts], start: date, today: date, placer: Placer, rules: Rules) -> list[RegisterRow]:
    """Every dossier late on ``today`` in a period from ``start``, most days late first."""
    rows = [row for f in facts if (row := row_for(f, start, today, placer, rules)) is not None]
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
