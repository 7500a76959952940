"""The configurable rules the register and the indicators follow (rules-and-indicators.md gives the defaults).

Rules differ in detail between provinces and change with decrees, so every threshold is data: read from the YAML
file named by ``DVC_HUB_REPORT_RULES`` when set, otherwise the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.errors import ConfigurationError
from foundation.topology import Level

RULES_ENV = "DVC_HUB_REPORT_RULES"


class Rules(BaseModel):
    """Thresholds of the register and the indicators."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    apology_margin_days: int = Field(
        default=1,
        ge=0,
        description="an apology must be issued at least this many days before the first appointment "
        "(Decree 61/2018: one day); one issued later is flagged",
    )
    online_rate_targets: dict[Level, float] = Field(
        default_factory=lambda: {Level.PROVINCE: 90.0, Level.DISTRICT: 90.0, Level.COMMUNE: 70.0},
        description="online-rate target per level, in percent",
    )
    qd766_criteria: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "timeliness": {"timely_rate": 20.0},
            "online_services": {"online_procedures_used_rate": 6.0, "online_rate": 6.0},
            "online_payment": {"online_payment_rate": 10.0},
            "digitisation": {"digitisation_rate": 8.0, "electronic_result_rate": 8.0, "reuse_rate": 6.0},
        },
        description="Decision 766 points the hub computes: per group (timeliness, online_services, online_payment, "
        "digitisation), each indicator rate and the points it is worth at 100 % (reports/scores.py)",
    )
    stale_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="the portal's copy of a dossier is stale when the hub has held a newer version this long",
    )

    @field_validator("qd766_criteria")
    @classmethod
    def _known_criteria(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        groups = {"timeliness", "online_services", "online_payment", "digitisation"}
        rates = {"timely_rate", "on_time_rate", "online_rate", "fully_online_rate", "partly_online_rate",
                 "online_procedures_used_rate", "online_payment_rate", "digitisation_rate", "reuse_rate",
                 "electronic_result_rate", "sync_coverage"}  # fmt: skip
        for group, criteria in value.items():
            if group not in groups:
                raise ValueError(f"nhóm chỉ số QĐ 766 không tính được: {group} (expected one of {sorted(groups)})")
            if unknown := set(criteria) - rates:
                raise ValueError(f"tỷ lệ không có: {sorted(unknown)} (expected some of {sorted(rates)})")
        return value

    def online_target(self, level: Level | None) -> float | None:
        return self.online_rate_targets.get(level) if level is not None else None


def load_rules(path: Path | None = None) -> Rules:
    """The rules from ``path`` (or ``$DVC_HUB_REPORT_RULES``), or the defaults when neither is given."""
    where = path or (Path(os.environ[RULES_ENV]) if os.environ.get(RULES_ENV) else None)
    if where is None:
        return Rules()
    try:
        return Rules.model_validate(yaml.safe_load(where.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{where}: quy tắc báo cáo không hợp lệ (invalid report rules): {exc}") from exc
