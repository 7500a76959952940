"""The report functions the console, the CLI and the workbook all call, so every place shows the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from foundation.topology import Topology
from hub.store.db import Database
from reports.indicators import Calculator, Indicators
from reports.periods import Period
from reports.places import Placer
from reports.register import Facts, RegisterRow, register
from reports.rules import Rules
from reports.store import load_facts


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


class LateReport(BaseModel):
    """The register for a period, judged on its last day (or today, for a running period)."""

    model_config = ConfigDict(frozen=True)

    period: str
    judged_on: date
    rows: list[RegisterRow]


class IndicatorReport(BaseModel):
    """Every scope's indicators for a period, and the same for the period before it (month over month)."""

    model_config = ConfigDict(frozen=True)

    period: str
    previous_period: str
    rows: list[Indicators]
    previous: list[Indicators]


class Reports:
    """Reads the store once per call and computes with the rules and topology it was built with."""

    def __init__(self, db: Database, topology: Topology, rules: Rules) -> None:
        self.db = db
        self.topology = topology
        self.rules = rules

    def facts(self, period: Period) -> list[Facts]:
        return load_facts(self.db, self.topology.portal.name, period.start, period.end)

    def late(self, period: Period, now: datetime, where: LateFilter | None = None) -> LateReport:
        judged_on = min(period.end, now.date())
        placer = Placer(self.topology, judged_on)
        rows = register(self.facts(period), judged_on, placer, self.rules)
        keep = where or LateFilter()
        return LateReport(period=period.label, judged_on=judged_on, rows=[r for r in rows if keep.keeps(r)])

    def indicators(self, period: Period, now: datetime) -> IndicatorReport:
        before = period.previous()
        return IndicatorReport(
            period=period.label,
            previous_period=before.label,
            rows=self._indicators(period, now),
            previous=self._indicators(before, now),
        )

    def _indicators(self, period: Period, now: datetime) -> list[Indicators]:
        placer = Placer(self.topology, min(period.end, now.date()))
        return Calculator(period, placer, self.rules, now).compute(self.facts(period))
