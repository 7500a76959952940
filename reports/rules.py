"""The configurable rules the register and the indicators follow (rules-and-indicators.md gives the defaults).

Rules differ in detail between provinces and change with decrees, so every threshold is data: read from the YAML
file named by ``DVC_HUB_REPORT_RULES`` when set, otherwise the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    stale_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="the portal's copy of a dossier is stale when the hub has held a newer version this long",
    )

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
