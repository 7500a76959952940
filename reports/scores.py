"""Decision 766/QĐ-TTg points (Bộ chỉ số chỉ đạo, điều hành và đánh giá chất lượng phục vụ người dân, doanh
nghiệp, 23/6/2022) for the groups a hub that sees every dossier can compute, per unit, level and province.

The decision scores 100 points in six groups: publicity and transparency 18, processing timeliness 20, online
services 12, online payment 10, satisfaction 18, digitisation 22. Publicity (procedures published on time, which
the hub does not see) and satisfaction (surveys) are marked "không đủ dữ liệu" and are not in the hub's total.

Each computable group is split into criteria, each a rate of :class:`reports.indicators.Indicators` and the points
it is worth at 100 %; a criterion earns ``rate × points / 100``. A criterion whose rate has no denominator (a unit
with no fee-bearing dossier has no online-payment rate) is left out of both the points and the attainable maximum,
and a group with no criterion left is "không đủ dữ liệu". Scopes are ranked by the share of their attainable
maximum they earned, so a unit is not ranked down for a criterion it had nothing to be judged on. The split of a
group into criteria is configurable (:attr:`reports.rules.Rules.qd766_criteria`); docs/reports.md says which
version of the decision the defaults follow and where they are an assumption.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict, computed_field

from foundation.topology import Level
from reports.indicators import Indicators

NOT_ENOUGH_DATA: Final = "không đủ dữ liệu"

# The decision's groups in its order, with their Vietnamese names and the maximum points of each.
GROUPS: Final[tuple[tuple[str, str, float], ...]] = (
    ("publicity", "Công khai, minh bạch", 18.0),
    ("timeliness", "Tiến độ giải quyết", 20.0),
    ("online_services", "Dịch vụ trực tuyến", 12.0),
    ("online_payment", "Thanh toán trực tuyến", 10.0),
    ("satisfaction", "Mức độ hài lòng", 18.0),
    ("digitisation", "Số hóa hồ sơ", 22.0),
)
GROUP_NAMES: Final[dict[str, str]] = {key: name for key, name, _ in GROUPS}
GROUP_POINTS: Final[dict[str, float]] = {key: points for key, _, points in GROUPS}


class GroupScore(BaseModel):
    """One group's points for one scope: ``points`` of an attainable ``maximum``, or None without data."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    points: float | None
    maximum: float

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """ "17,5/20" the vi_VN way, or "không đủ dữ liệu"."""
        if self.points is None:
            return NOT_ENOUGH_DATA
        return f"{_vn(self.points)}/{_vn(self.maximum)}"


class ScoreRow(BaseModel):
    """Every group's points, the total, its rank and its last twelve months for one scope (unit, level, all)."""

    model_config = ConfigDict(frozen=True)

    scope: str
    key: str
    name: str
    level: Level | None
    groups: tuple[GroupScore, ...]
    rank: int | None = None  # among the units of its level, or among the levels; None for the province
    rank_of: int | None = None
    trend: tuple[tuple[str, float | None], ...] = ()  # (period label, score %) for the 12 months up to this one

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> float | None:
        """The points of the groups with data."""
        found = [g.points for g in self.groups if g.points is not None]
        return round(sum(found), 2) if found else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def maximum(self) -> float:
        """The points attainable on the criteria with data."""
        return round(sum(g.maximum for g in self.groups if g.points is not None), 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def share(self) -> float | None:
        """The total as a percentage of the attainable maximum (what the rank compares), one decimal."""
        total = self.total
        return round(100.0 * total / self.maximum, 1) if total is not None and self.maximum else None


def group_scores(row: Indicators, criteria: Mapping[str, Mapping[str, float]]) -> tuple[GroupScore, ...]:
    """The six groups of one scope, in the decision's order."""
    found: list[GroupScore] = []
    for key, name, points in GROUPS:
        earned = attainable = 0.0
        for field, weight in criteria.get(key, {}).items():
            value = getattr(row, field)
            if value is None:
                continue
            earned += weight * value / 100.0
            attainable += weight
        if attainable:
            found.append(GroupScore(key=key, name=name, points=round(earned, 2), maximum=attainable))
        else:
            found.append(GroupScore(key=key, name=name, points=None, maximum=points))
    return tuple(found)


def score(rows: Sequence[Indicators], criteria: Mapping[str, Mapping[str, float]]) -> list[ScoreRow]:
    """The points of every scope, ranked: units among the units of their level, levels among the levels."""
    scored = [
        ScoreRow(scope=r.scope, key=r.key, name=r.name, level=r.level, groups=group_scores(r, criteria)) for r in rows
    ]
    ranked: list[ScoreRow] = []
    for row in scored:
        if row.scope == "all":
            ranked.append(row)
            continue
        peers = [p for p in scored if p.scope == row.scope and (row.scope == "level" or p.level == row.level)]
        better = sum(1 for p in peers if _key(p) > _key(row))
        ranked.append(row.model_copy(update={"rank": better + 1, "rank_of": len(peers)}))
    return ranked


def with_trend(rows: Sequence[ScoreRow], months: Sequence[tuple[str, Sequence[ScoreRow]]]) -> list[ScoreRow]:
    """``rows`` with each scope's score share in ``months`` (oldest first; a month without the scope is None)."""
    shares = [(label, {(r.scope, r.key): r.share for r in scored}) for label, scored in months]
    return [
        r.model_copy(update={"trend": tuple((label, found.get((r.scope, r.key))) for label, found in shares)})
        for r in rows
    ]


def _key(row: ScoreRow) -> float:
    return -1.0 if row.share is None else row.share


def _vn(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
