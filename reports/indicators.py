"""The Decision 766/QĐ-TTg indicators a hub that sees every dossier can compute, per unit, per level and for the
whole province, over a period (``../shared/domain/rules-and-indicators.md``; thresholds in :class:`Rules`).

Every definition, with the rule it follows:

- **Timeliness** (766 group "processing timeliness"), judged at the report's "as of" moment (the period's end, or
  how far the store knows the world when that is earlier; :meth:`reports.service.Reports.as_of`), each dossier
  counted once by :func:`reports.register.standing`: *carried over* (received before the period, still open at its
  start) or *received* in it; then *solved* in it — finished early, on time or late against the **first**
  appointment by day, or *dropped* (refused, withdrawn, stopped: closed without a result, no deadline missed) — or
  *in progress* at the "as of" moment, within or past the first appointment. So for every row carried over +
  received = solved + in progress. A dossier without appointment is on time. ``on_time_rate`` = (early + on time) /
  finished with a result; the dossiers in progress past their appointment are not in it and are stated beside it
  (``open_late``). ``timely_rate`` (Decision 766 points, :mod:`reports.scores`) counts those against it too:
  (early + on time) / (finished with a result + in progress past the appointment).
- **Online rate** (766 "online service provision"): dossiers *received in the period* through channel 2
  (KenhThucHien = 2) / all received; split by the procedure's service level: fully online (4) and partly online (3).
  The level's target (``online_rate_targets``) is shown beside it.
- **Online procedures used**: online procedures (service level 3 or 4) that had a dossier of the unit in the period,
  and of those the ones that received at least one online dossier in it. The hub knows a unit's procedures only
  from its dossiers, so a procedure with no dossier at all is not in the denominator.
- **Online payment rate** (766 "online payment"): fee-bearing dossiers received in the period (fees above 0 VND)
  that were paid online (DuocThanhToanTrucTuyen) / fee-bearing dossiers.
- **Digitisation rate** (766 "digitisation"): dossiers received in the period with at least one file, every file
  digitised (DuocSoHoa) / dossiers received. **Reuse rate**: dossiers received in the period with a file reused
  (DuocTaiSuDung) or taken from the national data store (DuocLayTuKhoDMQG) / dossiers received.
- **Electronic-result rate**: finished dossiers with a result paper carrying a file (DuongDanTepTinKetQua) / finished.
- **DVCQG sync coverage**: every dossier received in the period should be on the national portal; ``portal_delivered``
  had some version delivered, ``portal_current`` has the hub's newest; ``portal_stale`` are behind the hub for
  longer than ``stale_after_hours``; ``portal_max_lag_hours`` is the oldest unsent change, in hours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, computed_field

from foundation.topology import Level
from mappings.codes import Channel, ServiceLevel
from reports.periods import Period
from reports.places import Place, Placer
from reports.register import Facts, Standing, received_on, standing
from reports.rules import Rules

ONLINE_LEVELS = (ServiceLevel.PARTLY_ONLINE, ServiceLevel.FULLY_ONLINE)
_FINISHED = (Standing.FINISHED_EARLY, Standing.FINISHED_ON_TIME, Standing.FINISHED_LATE)


def rate(part: int, whole: int) -> float | None:
    """A percentage rounded to one decimal; None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


class Indicators(BaseModel):
    """The indicators of one scope (a unit, a level, or the province) over one period."""

    model_config = ConfigDict(frozen=True)

    scope: str  # "unit", "level" or "all"
    key: str  # the unit's code, the level's name, or "all"
    name: str
    level: Level | None
    period: str
    carried_over: int = 0
    received: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    dropped: int = 0
    open_on_time: int = 0
    open_late: int = 0
    online: int = 0
    fully_online_received: int = 0
    fully_online_online: int = 0
    partly_online_received: int = 0
    partly_online_online: int = 0
    online_procedures: int = 0
    online_procedures_used: int = 0
    fee_bearing: int = 0
    paid_online: int = 0
    digitised: int = 0
    reused: int = 0
    electronic_results: int = 0
    portal_expected: int = 0
    portal_delivered: int = 0
    portal_current: int = 0
    portal_stale: int = 0
    portal_max_lag_hours: float = 0.0
    online_target: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def to_process(self) -> int:
        """Dossiers the period had to deal with: carried over + received."""
        return self.carried_over + self.received

    @computed_field  # type: ignore[prop-decorator]
    @property
    def finished(self) -> int:
        """Solved with a result: early + on time + late (the on-time rate's denominator)."""
        return self.finished_early + self.finished_on_time + self.finished_late

    @computed_field  # type: ignore[prop-decorator]
    @property
    def finished_in_time(self) -> int:
        """Early + on time (the on-time rate's numerator)."""
        return self.finished_early + self.finished_on_time

    @computed_field  # type: ignore[prop-decorator]
    @property
    def solved(self) -> int:
        """Closed in the period: finished with a result, or dropped."""
        return self.finished + self.dropped

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_progress(self) -> int:
        return self.open_on_time + self.open_late

    @computed_field  # type: ignore[prop-decorator]
    @property
    def late(self) -> int:
        """Every late dossier of the register: finished late in the period, or in progress past the appointment."""
        return self.finished_late + self.open_late

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_time_rate(self) -> float | None:
        return rate(self.finished_in_time, self.finished)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def timely_rate(self) -> float | None:
        """Decision 766's processing timeliness: early + on time over finished with a result plus in progress past
        the appointment, so an overdue dossier still open counts against the unit (not only once it finishes)."""
        return rate(self.finished_in_time, self.finished + self.open_late)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def online_rate(self) -> float | None:
        return rate(self.online, self.received)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fully_online_rate(self) -> float | None:
        return rate(self.fully_online_online, self.fully_online_received)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def partly_online_rate(self) -> float | None:
        return rate(self.partly_online_online, self.partly_online_received)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def online_procedures_used_rate(self) -> float | None:
        return rate(self.online_procedures_used, self.online_procedures)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def online_payment_rate(self) -> float | None:
        return rate(self.paid_online, self.fee_bearing)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def digitisation_rate(self) -> float | None:
        return rate(self.digitised, self.received)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def reuse_rate(self) -> float | None:
        return rate(self.reused, self.received)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def electronic_result_rate(self) -> float | None:
        return rate(self.electronic_results, self.finished)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sync_coverage(self) -> float | None:
        return rate(self.portal_delivered, self.portal_expected)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def meets_online_target(self) -> bool | None:
        online = self.online_rate
        return None if online is None or self.online_target is None else online >= self.online_target


@dataclass(slots=True)
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    online_procedures: set[str] = field(default_factory=set)
    used_procedures: set[str] = field(default_factory=set)
    max_lag_hours: float = 0.0


@dataclass(frozen=True, slots=True)
class _Scope:
    scope: str
    key: str
    name: str
    level: Level | None


class Calculator:
    """Computes every scope's indicators for one period from the dossiers' facts."""

    def __init__(self, period: Period, placer: Placer, rules: Rules, now: datetime, as_of: datetime) -> None:
        self.period = period
        self.placer = placer
        self.rules = rules
        self.now = now  # the wall clock: how long the portal's copy has been behind
        self.judged_on = min(period.end, as_of.date())

    def compute(self, facts: Iterable[Facts]) -> list[Indicators]:
        """Rows for each unit with dossiers, then each level, then the whole province."""
        tallies: dict[_Scope, _Tally] = defaultdict(_Tally)
        for item in facts:
            place = self.placer.place(item.dossier.receiving_unit, received_on(item.dossier))
            counts, procedure, used, lag = self._classify(item)
            if not counts and procedure is None:
                continue
            for scope in self._scopes(place):
                tally = tallies[scope]
                for name, value in counts.items():
                    tally.counts[name] += value
                if procedure is not None:
                    tally.online_procedures.add(procedure)
                    if used:
                        tally.used_procedures.add(procedure)
                tally.max_lag_hours = max(tally.max_lag_hours, lag)
        rows = [self._row(scope, tally) for scope, tally in tallies.items()]
        order = {"unit": 0, "level": 1, "all": 2}
        rows.sort(key=lambda r: (order[r.scope], r.key))
        return rows

    def _scopes(self, place: Place) -> list[_Scope]:
        scopes = [_Scope("unit", place.code, place.name, place.level)]
        if place.level is not None:
            scopes.append(_Scope("level", place.level.value, place.level.value, place.level))
        scopes.append(_Scope("all", "all", "all", None))
        return scopes

    def _row(self, scope: _Scope, tally: _Tally) -> Indicators:
        return Indicators(
            scope=scope.scope,
            key=scope.key,
            name=scope.name,
            level=scope.level,
            period=self.period.label,
            online_procedures=len(tally.online_procedures),
            online_procedures_used=len(tally.used_procedures),
            portal_max_lag_hours=round(tally.max_lag_hours, 1),
            online_target=self.rules.online_target(scope.level),
            **tally.counts,
        )

    def _classify(self, item: Facts) -> tuple[dict[str, int], str | None, bool, float]:
        """What one dossier adds: counts, its online procedure (if it is one in the period), used online, lag."""
        dossier = item.dossier
        where = standing(item, self.period.start, self.judged_on)
        if where is None:
            return {}, None, False, 0.0
        counts: dict[str, int] = {where.value: 1}
        if where in _FINISHED and any(r.url for r in dossier.results):
            counts["electronic_results"] = 1
        received = received_on(dossier) >= self.period.start
        online = dossier.channel is Channel.ONLINE
        lag = 0.0
        if not received:
            counts["carried_over"] = 1
        else:
            counts["received"] = 1
            if online:
                counts["online"] = 1
            if dossier.service_level is ServiceLevel.FULLY_ONLINE:
                counts["fully_online_received"] = 1
                counts["fully_online_online"] = int(online)
            elif dossier.service_level is ServiceLevel.PARTLY_ONLINE:
                counts["partly_online_received"] = 1
                counts["partly_online_online"] = int(online)
            if sum((f.amount for f in dossier.fees), Decimal(0)) > 0:
                counts["fee_bearing"] = 1
                counts["paid_online"] = int(bool(dossier.paid_online))
            files = [f for f in dossier.files if not f.deleted]
            counts["digitised"] = int(bool(files) and all(f.digitised for f in files))
            counts["reused"] = int(any(f.reused or f.from_national_store for f in files))
            counts.update(self._portal(item))
            lag = self._lag_hours(item)
        procedure = None
        if dossier.service_level in ONLINE_LEVELS:
            procedure = dossier.national_procedure_code or dossier.local_procedure_code
        return counts, procedure, received and online, lag

    def _portal(self, item: Facts) -> dict[str, int]:
        delivered = item.delivered_version is not None
        current = delivered and item.delivered_version is not None and item.delivered_version >= item.hub_version
        behind_since = item.changed_at
        stale = (
            delivered
            and not current
            and behind_since is not None
            and self.now - behind_since > timedelta(hours=self.rules.stale_after_hours)
        )
        return {
            "portal_expected": 1,
            "portal_delivered": int(delivered),
            "portal_current": int(current),
            "portal_stale": int(stale),
        }

    def _lag_hours(self, item: Facts) -> float:
        current = item.delivered_version is not None and item.delivered_version >= item.hub_version
        if current or item.changed_at is None:
            return 0.0
        return max(0.0, (self.now - item.changed_at).total_seconds() / 3600)
