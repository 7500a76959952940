"""The report functions the console, the CLI and the workbook all call, so every place shows the same figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, computed_field

from foundation.clock import VN_TZ
from foundation.topology import Topology
from hub.store.db import Database
from reports.apology import Letter, letter
from reports.forms import LevelForm, forms
from reports.indicators import Calculator, Indicators
from reports.labels import LEVELS, as_of_text
from reports.periods import Grain, Period, period_of
from reports.places import Place, Placer
from reports.register import Facts, LetterState, RegisterRow, received_on, register, row_for
from reports.rules import Rules
from reports.scores import ScoreRow, score, with_trend
from reports.store import known_until, load_dossier, load_facts


@dataclass(frozen=True, slots=True)
class LateFilter:
    """Narrows the register: a unit (the one it counts for, or any above it), open or finished, apology state."""

    unit: str | None = None
    open: bool | None = None
    apologised: bool | None = None
    breaches_only: bool = False  # late without apology, or apologised after the deadline

    def keeps(self, row: RegisterRow) -> bool:
        if self.unit is not None and self.unit != row.unit.code and self.unit not in row.unit.ancestors:
            return False
        if self.open is not None and row.open != self.open:
            return False
        if self.apologised is not None and row.apologised != self.apologised:
            return False
        return not self.breaches_only or row.late_without_apology or row.apology_after_deadline


class _Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    as_of: datetime  # the moment the figures are judged at (Vietnam time): see Reports.as_of

    @computed_field  # type: ignore[prop-decorator]
    @property
    def as_of_text(self) -> str:
        """The stamp every place prints beside the figures: "tính đến 17:00 ngày 31/10/2023"."""
        return as_of_text(self.as_of)


_LETTER_FIELD = {LetterState.DRAFTED: "drafted", LetterState.ISSUED: "issued", LetterState.LATE: "issued_late"}


class RegisterTotal(BaseModel):
    """One line of the register's summary: a unit, a level or a month, with its late dossiers and their letters."""

    model_config = ConfigDict(frozen=True)

    scope: str  # "unit", "level", "month" or "all"
    key: str
    name: str
    late: int = 0
    open: int = 0
    without_apology: int = 0
    drafted: int = 0
    issued: int = 0
    issued_late: int = 0


class LateReport(_Report):
    """The register for a period, judged at its "as of" moment."""

    judged_on: date
    rows: list[RegisterRow]

    def summary(self) -> list[RegisterTotal]:
        """Totals per unit, per level, per month the first appointment fell in, and for all, above the list."""
        names: dict[tuple[str, str], str] = {}
        counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for row in self.rows:
            level = row.unit.level
            for scope, key, name in (
                ("unit", row.unit.code, f"{row.unit.name} ({row.unit.code})"),
                ("level", level.value if level else "", LEVELS[level]),
                ("month", f"{row.first_appointment:%Y-%m}", f"Tháng {row.first_appointment:%m/%Y}"),
                ("all", "all", "Tổng cộng"),
            ):
                names[scope, key] = name
                tally = counts[scope, key]
                tally["late"] += 1
                tally["open"] += row.open
                tally["without_apology"] += row.late_without_apology
                tally[_LETTER_FIELD[row.letter_state]] += 1
        order = {"unit": 0, "level": 1, "month": 2, "all": 3}
        totals = [RegisterTotal(scope=s, key=k, name=names[s, k], **counts[s, k]) for s, k in names]
        return sorted(totals, key=lambda t: (order[t.scope], t.key))

    def by_unit(self) -> list[tuple[Place, int, int]]:
        """(unit, late dossiers, most days late) per unit the rows count for, most late first."""
        found: dict[str, tuple[Place, int, int]] = {}
        for row in self.rows:
            place, count, worst = found.get(row.unit.code, (row.unit, 0, 0))
            found[row.unit.code] = (place, count + 1, max(worst, row.days_late))
        return sorted(found.values(), key=lambda item: (-item[1], item[0].code))


class IndicatorReport(_Report):
    """Every scope's indicators for a period, and the same for the period before it (month over month)."""

    previous_period: str
    previous_as_of: datetime
    rows: list[Indicators]
    previous: list[Indicators]


class ScoreReport(_Report):
    """Decision 766 points per unit, level and province for a period, each with its rank and its last 12 months."""

    months: list[str]
    rows: list[ScoreRow]


class FormsReport(_Report):
    """The dossier-processing result forms of every level for a period (Circular 01/2018/TT-VPCP, 06a/06b/06c)."""

    levels: list[LevelForm]


TREND_MONTHS = 12


class Reports:
    """Reads the store once per call and computes with the rules and topology it was built with.

    Every report is judged at one "as of" moment (:meth:`as_of`) that depends only on the period and the store, so
    the console, the CLI, the workbook, the dashboard and the demo print the same figure with the same stamp.
    """

    def __init__(self, db: Database, topology: Topology, rules: Rules) -> None:
        self.db = db
        self.topology = topology
        self.rules = rules
        self._known: tuple[datetime, datetime] | None = None  # (now, known_until(now)): one store read per moment

    def known_until(self, now: datetime) -> datetime:
        """How far the store knows the world (:func:`reports.store.known_until`), in Vietnam time.

        A period running past it is judged there and not at the wall clock: judging a day the hub has not seen would
        count every dossier still open in the store as late on it (the demo's October said 4 late as of its
        simulated day, ``dvc-hub report late`` 324 as of 31 October, on the same database).
        """
        if self._known is None or self._known[0] != now:
            self._known = (now, known_until(self.db, now).astimezone(VN_TZ))
        return self._known[1]

    def as_of(self, period: Period, now: datetime) -> datetime:
        """The moment ``period`` is judged at: its last moment, or how far the store knows the world if earlier.

        A period the store has no news of yet is judged at its first moment (what it carried over, nothing received),
        never before it: judged in the month before, it would also count for that month's units, not its own.
        """
        return max(period.opens_at, min(period.closes_at, self.known_until(now)))

    def current_period(self, now: datetime) -> Period:
        """The month the store's newest knowledge falls in: what "this month" means for a report by default."""
        return period_of(Grain.MONTH, self.known_until(now).date())

    def register_month(self, now: datetime, back: int = TREND_MONTHS) -> Period:
        """The month the late register opens on: the store's newest month, or if nothing is late in it, the latest
        of the ``back`` months before it that has a late dossier (a register opening empty shows nothing to do)."""
        month = self.current_period(now)
        for _ in range(back + 1):
            if self.late(month, now).rows:
                return month
            month = month.previous()
        return self.current_period(now)

    def facts(self, period: Period) -> list[Facts]:
        return load_facts(self.db, self.topology.portal.name, period.start, period.end)

    def late(self, period: Period, now: datetime, where: LateFilter | None = None) -> LateReport:
        as_of = self.as_of(period, now)
        judged_on = as_of.date()
        placer = Placer(self.topology, judged_on)
        rows = register(self.facts(period), period.start, judged_on, placer, self.rules)
        keep = where or LateFilter()
        return LateReport(
            period=period.label, as_of=as_of, judged_on=judged_on, rows=[r for r in rows if keep.keeps(r)]
        )

    def indicators(self, period: Period, now: datetime) -> IndicatorReport:
        before = period.previous()
        as_of, previous_as_of = self.as_of(period, now), self.as_of(before, now)
        return IndicatorReport(
            period=period.label,
            as_of=as_of,
            previous_period=before.label,
            previous_as_of=previous_as_of,
            rows=self._indicators(period, now, as_of),
            previous=self._indicators(before, now, previous_as_of),
        )

    def scores(self, period: Period, now: datetime) -> ScoreReport:
        """The points of ``period`` and, for the trend, of each of the twelve months up to the one it ends in (each
        judged at its own "as of" moment, as its own report would be)."""
        as_of = self.as_of(period, now)
        criteria = self.rules.qd766_criteria
        month = period_of(Grain.MONTH, period.end)
        months = [month]
        while len(months) < TREND_MONTHS:
            months.insert(0, months[0].previous())
        history = [(m.label, score(self._indicators(m, now, self.as_of(m, now)), criteria)) for m in months]
        rows = score(self._indicators(period, now, as_of), criteria)
        return ScoreReport(
            period=period.label, as_of=as_of, months=[m.label for m in months], rows=with_trend(rows, history)
        )

    def forms(self, period: Period, now: datetime) -> FormsReport:
        """The forms of ``period``, judged at its "as of" moment as every other report."""
        as_of = self.as_of(period, now)
        judged_on = as_of.date()
        levels = forms(self.facts(period), period.start, judged_on, Placer(self.topology, judged_on))
        return FormsReport(period=period.label, as_of=as_of, levels=levels)

    def letter(self, code: str, now: datetime) -> Letter | None:
        """The apology letter of dossier ``code`` as late as the store knows it; None when the store does not hold
        it or it is not late (nothing to apologise for)."""
        facts = load_dossier(self.db, self.topology.portal.name, code)
        if facts is None:
            return None
        today = self.known_until(now).date()
        row = row_for(facts, received_on(facts.dossier), today, Placer(self.topology, today), self.rules)
        return None if row is None else letter(facts, row, self.topology, today=today)

    def _indicators(self, period: Period, now: datetime, as_of: datetime) -> list[Indicators]:
        placer = Placer(self.topology, as_of.date())
        return Calculator(period, placer, self.rules, now, as_of).compute(self.facts(period))
