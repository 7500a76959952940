"""The periodic dossier-processing result forms (tình hình, kết quả giải quyết thủ tục hành chính; Circular
01/2018/TT-VPCP, forms 06a/06b/06c): per level, each unit with a line per field of procedures (lĩnh vực), received
split into carried over / new online / new at the counter or by post, solved into early / on time / late, in
progress into within / past the deadline.

Every dossier is counted by :func:`reports.register.standing` at the report's "as of" moment, as the indicators are,
so a unit's subtotal here equals its indicator row. The forms have no column for refused, withdrawn or stopped
dossiers; one is added after the late ones ("trả lại, rút, dừng xử lý"), or a row's received would not equal its
solved plus in progress.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Final

from pydantic import BaseModel, ConfigDict, computed_field

from foundation.topology import Level
from mappings.codes import Channel
from reports.places import Place, Placer
from reports.register import Facts, received_on, standing

NO_FIELD: Final = "Lĩnh vực chưa xác định"
# The form of each level: communes and the units that process dossiers themselves (06a), districts (06b), the
# province (06c).
FORM_OF: Final[dict[Level, str]] = {Level.COMMUNE: "06a", Level.DISTRICT: "06b", Level.PROVINCE: "06c"}
COUNTS: Final = ("carried_over", "received_online", "received_other", "finished_early", "finished_on_time",
                 "finished_late", "dropped", "open_on_time", "open_late")  # fmt: skip


class FormLine(BaseModel):
    """One line of a form: a field of procedures at a unit, a unit's subtotal, or a level's total."""

    model_config = ConfigDict(frozen=True)

    name: str
    carried_over: int = 0
    received_online: int = 0
    received_other: int = 0
    finished_early: int = 0
    finished_on_time: int = 0
    finished_late: int = 0
    dropped: int = 0
    open_on_time: int = 0
    open_late: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        """Số hồ sơ nhận giải quyết: carried over + new."""
        return self.carried_over + self.received_online + self.received_other

    @computed_field  # type: ignore[prop-decorator]
    @property
    def solved(self) -> int:
        return self.finished_early + self.finished_on_time + self.finished_late + self.dropped

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_progress(self) -> int:
        return self.open_on_time + self.open_late

    @computed_field  # type: ignore[prop-decorator]
    @property
    def in_time_share(self) -> float | None:
        """(Early + on time) / finished with a result, as a fraction (a spreadsheet's percentage), or None."""
        finished = self.finished_early + self.finished_on_time + self.finished_late
        return (self.finished_early + self.finished_on_time) / finished if finished else None


class UnitForm(BaseModel):
    """A unit's lines, one per field of procedures, and their subtotal."""

    model_config = ConfigDict(frozen=True)

    unit: Place
    lines: tuple[FormLine, ...]
    subtotal: FormLine


class LevelForm(BaseModel):
    """One level's form: its units and the level's total."""

    model_config = ConfigDict(frozen=True)

    level: Level
    form: str
    units: tuple[UnitForm, ...]
    total: FormLine


def forms(facts: Iterable[Facts], start: date, judged_on: date, placer: Placer) -> list[LevelForm]:
    """The forms of every level that had dossiers, province first, units by name, fields by name."""
    tallies: dict[Level, dict[str, dict[str, Counter[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Counter))
    )
    places: dict[str, Place] = {}
    for item in facts:
        where = standing(item, start, judged_on)
        if where is None:
            continue
        dossier = item.dossier
        place = placer.place(dossier.receiving_unit, received_on(dossier))
        if place.level is None:
            continue  # a unit the topology does not know has no level's form to be on
        places[place.code] = place
        tally = tallies[place.level][place.code][dossier.field_name or NO_FIELD]
        tally[where.value] += 1
        if received_on(dossier) < start:
            tally["carried_over"] += 1
        elif dossier.channel is Channel.ONLINE:
            tally["received_online"] += 1
        else:
            tally["received_other"] += 1
    found: list[LevelForm] = []
    for level in (Level.PROVINCE, Level.DISTRICT, Level.COMMUNE):
        if level not in tallies:
            continue
        units = []
        for code, fields in sorted(tallies[level].items(), key=lambda item: places[item[0]].name):
            lines = tuple(FormLine(name=name, **fields[name]) for name in sorted(fields))
            units.append(UnitForm(unit=places[code], lines=lines, subtotal=_sum(places[code].name, lines)))
        total = _sum("Tổng cộng", [u.subtotal for u in units])
        found.append(LevelForm(level=level, form=FORM_OF[level], units=tuple(units), total=total))
    return found


def _sum(name: str, lines: Iterable[FormLine]) -> FormLine:
    total: Counter[str] = Counter()
    for line in lines:
        for field in COUNTS:
            total[field] += getattr(line, field)
    return FormLine(name=name, **total)
