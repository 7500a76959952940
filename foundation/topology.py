"""The administrative units a hub serves and the systems that serve them, loaded from a YAML file.

Units are data with validity periods: since July 2025 districts no longer exist and communes were merged, so a
unit has ``valid_from`` / ``valid_to`` and a ``successor``. A new unit may reuse a predecessor's code, so a code
is resolved *at a date*: :meth:`Topology.unit` finds the unit that carried the code on that day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from foundation.clock import today
from foundation.errors import ConfigurationError
from foundation.settings import Settings
from foundation.text import AGENCY_ID_PATTERN, normalize_name

FOREVER = date.max


class TopologyFileInvalid(ConfigurationError):
    """Raised when a topology file (or its overlay) cannot be read or is not valid; ``problems`` lists each."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class UnknownUnit(ConfigurationError):
    """Raised when an operator names a unit code the topology has never held."""

    error_class = "unknown_unit"

    def __init__(self, unit_code: str) -> None:
        super().__init__(
            f"Không có đơn vị mã {unit_code} trong cấu hình topology; xem danh sách đơn vị bằng "
            f"dvc-hub config check (no unit {unit_code})"
        )
        self.unit_code = unit_code


class Level(StrEnum):
    PROVINCE = "province"  # cấp tỉnh
    DISTRICT = "district"  # cấp huyện (abolished on 1 July 2025)
    COMMUNE = "commune"  # cấp xã


LEVEL_DEPTH = {Level.PROVINCE: 0, Level.DISTRICT: 1, Level.COMMUNE: 2}


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class System(_Config):
    """A remote system: how to reach it and how often to poll it."""

    name: str
    title: str | None = Field(
        default=None,
        description="what operators call it (Cổng DVCQG, Một cửa huyện Núi Thành); derived from the units it serves",
    )
    kind: str = Field(description="the system's kind: a built-in (soap, dvcqg-session, ...) or one in ``kinds``")
    base_url: str = Field(pattern=r"^(https?|fake)://")
    credentials: str | None = Field(default=None, description="reference resolved by foundation.credentials")
    poll_interval: int = Field(default=300, ge=10, description="seconds between polls of each unit it serves")
    timeout: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=50, ge=1, le=1000)
    options: dict[str, Any] = Field(
        default_factory=dict, description="the kind's own options, validated by its package"
    )


class Unit(_Config):
    """An administrative unit (tỉnh, huyện, xã) and the one-stop-shop system that serves it."""

    code: str = Field(pattern=r"^\d{1,6}$")
    name: str
    level: Level
    parent: str | None = None
    agency_id: str = Field(pattern=rf"^{AGENCY_ID_PATTERN}$")
    valid_from: date = date.min
    valid_to: date = FOREVER
    successor: str | None = None
    system: str | None = Field(default=None, description="the system that serves it; none for retired units")
    poll_interval: int | None = Field(default=None, ge=10, description="overrides the system's")

    @field_validator("name")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return normalize_name(value)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


class TopologyFile(_Config):
    """The YAML file's shape."""

    name: str
    targets: list[str] = Field(
        min_length=1,
        description="systems that receive every dossier of the province; the first is the national portal (DVCQG)",
    )
    kinds: dict[str, str] = Field(
        default_factory=dict, description="system kinds of this deployment's own: kind name → Python module path"
    )
    systems: list[System]
    units: list[Unit]


class Topology:
    """A validated topology with lookups by code and date."""

    def __init__(self, spec: TopologyFile) -> None:
        problems = check(spec)
        if problems:
            raise ConfigurationError("Cấu hình đơn vị không hợp lệ: " + "; ".join(problems))
        self.spec = spec
        self.name = spec.name
        self.systems = {s.name: s for s in spec.systems}
        self._by_code: dict[str, list[Unit]] = defaultdict(list)
        for unit in spec.units:
            self._by_code[unit.code].append(unit)

    @property
    def portal(self) -> System:
        """The national portal (DVCQG): the first of the targets, whose catalogues the hub reads."""
        return self.systems[self.spec.targets[0]]

    @property
    def targets(self) -> list[System]:
        """Every system that receives every dossier of the province."""
        return [self.systems[name] for name in self.spec.targets]

    @property
    def units(self) -> list[Unit]:
        return list(self.spec.units)

    def unit(self, code: str, on: date | None = None) -> Unit:
        """The unit that carried ``code`` on ``on`` (today's by default)."""
        on = on or today()
        for unit in self._by_code.get(code, ()):
            if unit.valid_on(on):
                return unit
        raise ConfigurationError(f"Không có đơn vị mã {code} vào ngày {on:%d/%m/%Y} (no unit {code} on {on})")

    def known_unit(self, code: str) -> Unit:
        """The unit that holds ``code`` today, or the last that held it (a merged unit's dossiers keep its code);
        a code the topology never held is the operator's mistake, named in the error."""
        found = self._by_code.get(code.strip())
        if not found:
            raise UnknownUnit(code)
        on = today()
        return next((u for u in found if u.valid_on(on)), max(found, key=lambda u: u.valid_to))

    def unit_label(self, code: str | None, on: date | None = None) -> str:
        """A unit as operators write it, "Xã Tam Xuân I (20968)", with "(cũ, nay thuộc Xã Tam Xuân (20971))" for a
        unit merged since; ``on`` picks which holder of a reused code is meant (today's by default)."""
        if not code:
            return "—"
        holders = self._by_code.get(code)
        if not holders:
            return f"Đơn vị không có trong cấu hình ({code})"
        day = on or today()
        unit = next((u for u in holders if u.valid_on(day)), None) or max(holders, key=lambda u: u.valid_to)
        label = f"{unit.name} ({unit.code})"
        if unit.valid_on(today()):
            return label
        now = self.current(unit, today())
        if now is unit:
            return f"{label} (đã giải thể)"
        return f"{label} (cũ, nay thuộc {now.name} ({now.code}))"

    def system_title(self, name: str | None) -> str:
        """A system as operators call it: its ``title``, "Cổng DVCQG" for the portal, or "Một cửa" and the
        highest unit it serves ("Một cửa huyện Núi Thành")."""
        if not name:
            return "—"
        system = self.systems.get(name)
        if system is None:
            return name
        if system.title:
            return system.title
        if name == self.spec.targets[0]:
            return "Cổng DVCQG"
        served = [u for u in self.spec.units if u.system == name]
        if not served:
            return name
        top = min(served, key=lambda u: (LEVEL_DEPTH[u.level], not u.valid_on(today())))
        return f"Một cửa {top.name[:1].lower()}{top.name[1:]}"

    def active_units(self, on: date | None = None) -> list[Unit]:
        on = on or today()
        return [u for u in self.spec.units if u.valid_on(on)]

    def parent(self, unit: Unit) -> Unit | None:
        if unit.parent is None:
            return None
        return self.unit(unit.parent, unit.valid_from)

    def ancestors(self, unit: Unit) -> Iterator[Unit]:
        current = self.parent(unit)
        while current is not None:
            yield current
            current = self.parent(current)

    def current(self, unit: Unit, on: date | None = None) -> Unit:
        """Follow successor links to the unit that carries ``unit``'s traffic on ``on``."""
        on = on or today()
        seen = 0
        while not unit.valid_on(on) and unit.successor is not None and seen < 16:
            unit = self.unit(unit.successor, _next_day(unit))
            seen += 1
        return unit

    def system_for(self, unit: Unit) -> System | None:
        return self.systems.get(unit.system) if unit.system else None

    def poll_interval(self, unit: Unit) -> int:
        system = self.system_for(unit)
        if unit.poll_interval is not None:
            return unit.poll_interval
        return system.poll_interval if system else 0


def _next_day(unit: Unit) -> date:
    return date.fromordinal(unit.valid_to.toordinal() + 1)


def check(spec: TopologyFile) -> list[str]:
    """Every problem of a parsed topology, each prefixed with its path in the file."""
    problems: list[str] = []
    systems = {s.name for s in spec.systems}
    seen_systems: set[str] = set()
    for i, system in enumerate(spec.systems):
        if system.name in seen_systems:
            problems.append(f"systems[{i}].name: duplicate system {system.name}")
        seen_systems.add(system.name)
    for i, name in enumerate(spec.targets):
        if name not in systems:
            problems.append(f"targets[{i}]: unknown system {name}")
        elif spec.targets.index(name) < i:
            problems.append(f"targets[{i}]: {name} is listed twice")
    by_code: dict[str, list[tuple[int, Unit]]] = defaultdict(list)
    for i, unit in enumerate(spec.units):
        by_code[unit.code].append((i, unit))

    def resolve(code: str, day: date) -> Unit | None:
        return next((u for _, u in by_code.get(code, ()) if u.valid_on(day)), None)

    for i, unit in enumerate(spec.units):
        where = f"units[{i}]"
        if unit.valid_to < unit.valid_from:
            problems.append(f"{where}.valid_to: {unit.valid_to} is before valid_from {unit.valid_from}")
        for j, other in by_code[unit.code]:
            overlaps = other.valid_from <= unit.valid_to and unit.valid_from <= other.valid_to
            if j < i and overlaps:
                problems.append(f"{where}.code: unit {unit.code} overlaps units[{j}] in time")
        if unit.system is not None and unit.system not in systems:
            problems.append(f"{where}.system: unknown system {unit.system}")
        if unit.level is Level.PROVINCE:
            if unit.parent is not None:
                problems.append(f"{where}.parent: a province has no parent")
        elif unit.parent is None:
            problems.append(f"{where}.parent: a {unit.level} needs a parent")
        else:
            parent = resolve(unit.parent, unit.valid_from)
            if parent is None:
                if unit.parent in by_code:
                    problems.append(
                        f"{where}.parent: unit {unit.parent} does not exist on {unit.valid_from} (valid_from)"
                    )
                else:
                    problems.append(f"{where}.parent: unknown unit {unit.parent}")
            elif LEVEL_DEPTH[parent.level] >= LEVEL_DEPTH[unit.level]:
                problems.append(f"{where}.parent: {parent.level} {unit.parent} cannot be parent of a {unit.level}")
        if unit.successor is not None:
            if unit.valid_to == FOREVER:
                problems.append(f"{where}.successor: a unit with a successor needs valid_to")
            elif resolve(unit.successor, _next_day(unit)) is None:
                known = "unknown unit" if unit.successor not in by_code else "no unit valid the next day with code"
                problems.append(f"{where}.successor: {known} {unit.successor}")
    return problems


def parse(data: Any) -> tuple[TopologyFile | None, list[str]]:
    """Parse YAML data into the file model; schema problems come back with their paths."""
    try:
        return TopologyFile.model_validate(data), []
    except ValidationError as exc:
        return None, [f"{_path(err['loc'])}: {err['msg']}" for err in exc.errors()]


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def apply_overlay(data: Any, overlay: Any) -> list[str]:
    """Lay a second topology file's ``systems`` over the first's, by name: a deployment changes base URLs and
    credential references (``docker-compose.yml``'s trial points the hub at the simulators) without copying the
    province's file. Only systems may be overlaid; each must exist in the first file; ``options`` merge key by key.
    """
    if not isinstance(overlay, dict) or set(overlay) - {"systems"}:
        return ["(overlay): only a 'systems:' list may be overlaid"]
    systems = {s.get("name"): s for s in data.get("systems", []) if isinstance(s, dict)}
    problems = []
    for index, change in enumerate(overlay.get("systems") or []):
        target = systems.get(change.get("name")) if isinstance(change, dict) else None
        if target is None:
            problems.append(f"(overlay).systems[{index}]: no system of that name in the topology")
            continue
        options = {**target.get("options", {}), **change.get("options", {})}
        target.update(change)
        if options:
            target["options"] = options
    return problems


def _read(path: Path, overlay: Path | None = None) -> tuple[TopologyFile | None, list[str]]:
    try:
        data = _yaml(path)
        if overlay is not None:
            problems = apply_overlay(data, _yaml(overlay))
            if problems:
                return None, problems
    except (OSError, yaml.YAMLError) as exc:
        return None, [f"(file): {exc}"]
    spec, problems = parse(data)
    if spec is not None:
        problems = check(spec)
    return spec, problems


def validate_file(path: Path, overlay: Path | None = None) -> list[str]:
    """Every problem of a topology file, with its path in the file; an empty list when it is valid."""
    return _read(path, overlay)[1]


def load(path: Path, overlay: Path | None = None) -> Topology:
    """Load and validate a topology file (and an overlay on it); :class:`TopologyFileInvalid` lists every problem."""
    spec, problems = _read(path, overlay)
    if spec is None or problems:
        raise TopologyFileInvalid(path, problems)
    return Topology(spec)


def configured(settings: Settings) -> Topology:
    """The deployment's topology: ``DVC_HUB_TOPOLOGY_FILE`` with ``DVC_HUB_TOPOLOGY_OVERLAY`` laid over it."""
    return load(settings.topology_file, settings.topology_overlay)
