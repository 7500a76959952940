"""Reconciliation against the real systems: what a unit's one-stop-shop has for a date range, as its connector lists
it (the change feed), against what the national portal has, as the portal connector's look-up answers.

Differences, per dossier the source lists (all of them, or a stable sample):

- **missing**: the portal has no copy;
- **mismatched**: the status of the portal's copy (as its kind reads it) is not the source's;
- **stale**: the hub has not read the revision the source lists (the hub is behind; the portal cannot be current);
- **extra**: the hub holds a dossier of the unit received in the range that the source does not list.

Only connectors are called, at a bounded rate (the daily run's through the workers' own, :func:`through_hub`, so
each call is in the integration log); the store is read for the hub's versions and written with the run.
:func:`repair` turns a run's missing and mismatched dossiers into a replay job: the hub forgets that it delivered
them (the portal proved it has not got them) and the job sends their deliveries again.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select

from connectors.base import ChangeRef, RawRecord, Source, Target
from foundation.clock import utcnow
from foundation.errors import ConfigurationError, HubError
from foundation.settings import Settings
from foundation.topology import System, Topology
from hub import replay
from hub.context import HubContext
from hub.delivery import RECORD_STEP
from hub.procedures import DbProcedureLookup
from hub.store.db import Database
from hub.store.models import Delivery, Dossier, MessageState
from mappings.canonical import Dossier as CanonicalDossier
from mappings.codes import Status
from reports.models import ReconciliationRun
from systems import registry
from systems.kind import StatusOf
from systems.kind import ToCanonical as ToCanonicalOf
from systems.registry import build_source, build_target, kind_of

Kind = Literal["missing", "mismatched", "stale", "extra"]
ToCanonical = Callable[[RawRecord], CanonicalDossier]


class Difference(BaseModel):
    """One dossier on which the systems disagree."""

    model_config = ConfigDict(frozen=True)

    dossier_code: str
    kind: Kind
    source_status: int | None = None
    portal_status: int | None = None
    source_version: int | None = None
    hub_version: int | None = None


class RunOut(BaseModel):
    """A reconciliation run as the console, the CLI and the workbook show it."""

    model_config = ConfigDict(frozen=True)

    id: int
    unit_code: str
    source: str
    target: str
    range_from: datetime
    range_to: datetime
    sample: float
    listed: int
    checked: int
    differences: list[Difference]
    replay_job_id: int | None
    started_at: datetime
    finished_at: datetime | None

    def count(self, kind: Kind) -> int:
        return sum(d.kind == kind for d in self.differences)


class Pacer:
    """At most ``rate_per_second`` calls per second (None: as fast as the systems answer); clock and sleep injected."""

    def __init__(
        self,
        rate_per_second: float | None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate_per_second if rate_per_second else 0.0
        self.sleep = sleep
        self.clock = clock
        self._next = 0.0

    def __call__(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if now < self._next:
            self.sleep(self._next - now)
        self._next = max(now, self._next) + self.interval


def sampled(code: str, sample: float) -> bool:
    """Whether ``code`` is in a ``sample`` share of dossiers; stable, so the next run checks the same ones."""
    return sample >= 1.0 or (zlib.crc32(code.encode()) % 10_000) < sample * 10_000


class Reconciler:
    """Compares one unit's source with the portal through their connectors and records the run."""

    def __init__(
        self,
        db: Database,
        *,
        source: Source,
        source_name: str,
        portal: Target,
        portal_name: str,
        to_canonical: ToCanonical,
        portal_status: StatusOf,
        pace: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.source = source
        self.source_name = source_name
        self.portal = portal
        self.portal_name = portal_name
        self.to_canonical = to_canonical
        self.portal_status = portal_status
        self.pace = pace or Pacer(None)

    def run(
        self, unit_code: str, since: datetime, until: datetime, *, sample: float = 1.0, user: str | None = None
    ) -> RunOut:
        listed = {ref.dossier_code: ref for ref in self._listed(unit_code, since, until)}
        hub_versions = self._hub_versions(listed, f"{self.source_name}:{unit_code}")
        differences: list[Difference] = []
        checked = 0
        for code in sorted(listed):
            if not sampled(code, sample):
                continue
            checked += 1
            self.pace()
            # the feed entry, as a sync passes it: a vendor whose records lack their change time takes it from there
            dossier = self.to_canonical(self.source.get_dossier(unit_code, code, seen=listed[code]))
            self.pace()
            copy = self.portal.lookup(unit_code, code)
            hub_version, read = hub_versions.get(code, (None, None))
            found = _compare(code, dossier, copy, self.portal_status, hub_version, read)
            if found is not None:
                differences.append(found)
        differences.extend(
            Difference(dossier_code=code, kind="extra", hub_version=version)
            for code, version in self._hub_received(unit_code, since, until).items()
            if code not in listed and sampled(code, sample)
        )
        with self.db.session() as session:
            row = ReconciliationRun(
                unit_code=unit_code,
                source=self.source_name,
                target=self.portal_name,
                range_from=since,
                range_to=until,
                sample=sample,
                listed=len(listed),
                checked=checked,
                differences=[d.model_dump(mode="json") for d in differences],
                created_by=user,
                finished_at=utcnow(),
            )
            session.add(row)
            session.flush()
            return to_out(row)

    def _listed(self, unit_code: str, since: datetime, until: datetime) -> Iterator[ChangeRef]:
        token: str | None = None
        while True:
            self.pace()
            page = self.source.fetch_changes(unit_code, since, token)
            yield from (ref for ref in page.items if ref.updated_at <= until)
            token = page.next_token
            if token is None:
                return

    def _hub_versions(self, listed: dict[str, ChangeRef], copy_key: str) -> dict[str, tuple[int, int | None]]:
        """The hub's version of each listed dossier, and the source revision of this copy it has read."""
        codes = list(listed)
        found: dict[str, tuple[int, int | None]] = {}
        with self.db.session() as session:
            for start in range(0, len(codes), 500):
                query = select(Dossier.code, Dossier.version, Dossier.source_versions).where(
                    Dossier.code.in_(codes[start : start + 500])
                )
                for code, version, sources in session.execute(query):
                    read = sources.get(copy_key)
                    found[code] = (version, int(read) if read is not None else None)
        return found

    def _hub_received(self, unit_code: str, since: datetime, until: datetime) -> dict[str, int]:
        query = select(Dossier.code, Dossier.version).where(
            Dossier.receiving_unit == unit_code,
            Dossier.source_updated_at >= since.astimezone(UTC),
            Dossier.source_updated_at <= until.astimezone(UTC),
        )
        with self.db.session() as session:
            return dict(session.execute(query).all())


def _compare(
    code: str,
    dossier: CanonicalDossier,
    copy: RawRecord | None,
    portal_status: StatusOf,
    hub_version: int | None,
    read: int | None,
) -> Difference | None:
    status = dossier.status
    common = {"dossier_code": code, "source_status": int(status), "source_version": dossier.version}
    if copy is None:
        return Difference(kind="missing", hub_version=hub_version, **common)
    said = _status(portal_status, copy)
    if said != status:
        return Difference(
            kind="mismatched",
            portal_status=int(said) if said else None,
            hub_version=hub_version,
            **common,
        )
    if read is None or read < dossier.version:
        return Difference(kind="stale", hub_version=hub_version, **common)
    return None


def _status(portal_status: StatusOf, copy: RawRecord) -> Status | None:
    """The status the copy says; None when it says none the hub knows (a mismatch, shown without a status)."""
    try:
        return portal_status(copy)
    except HubError:
        return None


def to_out(row: ReconciliationRun) -> RunOut:
    return RunOut(
        id=row.id,
        unit_code=row.unit_code,
        source=row.source,
        target=row.target,
        range_from=row.range_from,
        range_to=row.range_to,
        sample=row.sample,
        listed=row.listed,
        checked=row.checked,
        differences=[Difference.model_validate(d) for d in row.differences],
        replay_job_id=row.replay_job_id,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


def runs(db: Database, *, unit_code: str | None = None, limit: int = 50) -> list[RunOut]:
    """The newest runs first."""
    query = select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)
    if unit_code is not None:
        query = query.where(ReconciliationRun.unit_code == unit_code)
    with db.session() as session:
        return [to_out(row) for row in session.scalars(query)]


def repair(db: Database, run_id: int, *, user: str | None = None, rate_per_second: float | None = None) -> int | None:
    """A replay job that sends the run's missing and mismatched dossiers to the portal again; None if none.

    The hub's delivery keys for those dossiers are removed first: the portal has shown that it does not hold what
    the keys say was delivered, and a delivery whose key exists is skipped as already done.
    """
    with db.session() as session:
        row = session.get(ReconciliationRun, run_id)
        if row is None:
            raise LookupError(f"Không có lần đối soát số {run_id} (no reconciliation run {run_id})")
        codes = sorted({d["dossier_code"] for d in row.differences if d["kind"] in ("missing", "mismatched")})
        target = row.target
        if not codes:
            return None
        session.execute(
            delete(Delivery).where(
                Delivery.dossier_code.in_(codes), Delivery.target.in_((target, target + RECORD_STEP))
            )
        )
    flt = replay.ReplayFilter(
        kind="deliver", target=target, dossier_codes=tuple(codes), state=MessageState.SUCCEEDED.value
    )
    job_id = replay.create_job(db, flt, mode="original", user=user, rate_per_second=rate_per_second)
    with db.session() as session:
        found = session.get(ReconciliationRun, run_id)
        if found is not None:
            found.replay_job_id = job_id
    return job_id


@contextmanager
def connected(
    db: Database, topology: Topology, unit_code: str, *, settings: Settings, rate_per_second: float | None = None
) -> Iterator[Reconciler]:
    """A reconciler for ``unit_code`` over the connectors the topology names: the system serving the unit today
    (a merged unit's successor's), and the national portal."""
    unit = topology.current(topology.unit(unit_code))
    system = topology.system_for(unit)
    if system is None:
        raise ConfigurationError(f"Không có hệ thống phục vụ đơn vị {unit_code} (no system serves unit {unit_code})")
    registry.use(topology)
    mapping, portal_status = _readers(topology, system)
    procedures = DbProcedureLookup(db)
    with build_source(system, settings) as source, build_target(topology.portal, settings) as portal:
        yield Reconciler(
            db,
            source=source,
            source_name=system.name,
            portal=portal,
            portal_name=topology.portal.name,
            to_canonical=lambda raw: mapping(raw, procedures),
            portal_status=portal_status,
            pace=Pacer(rate_per_second),
        )


def through_hub(ctx: HubContext, system_name: str, *, rate_per_second: float | None = None) -> Reconciler:
    """A reconciler over the workers' own connectors (their circuit breakers and rate limits), whose every call
    goes into the attempt of the message being run: the daily reconciliation's (:mod:`reports.scheduled`)."""
    system = ctx.topology.systems[system_name]
    mapping, portal_status = _readers(ctx.topology, system)
    procedures = ctx.procedures
    return Reconciler(
        ctx.db,
        source=ctx.connectors.source(system.name),
        source_name=system.name,
        portal=ctx.connectors.target(ctx.topology.portal.name),
        portal_name=ctx.topology.portal.name,
        to_canonical=lambda raw: mapping(raw, procedures),
        portal_status=portal_status,
        pace=Pacer(rate_per_second),
    )


def _readers(topology: Topology, system: System) -> tuple[ToCanonicalOf, StatusOf]:
    """How the source's records are read, and how the portal's kind reads the status of its copy."""
    mapping = kind_of(system).to_canonical
    if mapping is None:
        raise ConfigurationError(f"Hệ thống {system.name} không phải nguồn hồ sơ (not a dossier source)")
    portal_status = kind_of(topology.portal).status_of
    if portal_status is None:
        raise ConfigurationError(
            f"Cổng {topology.portal.name} không đọc được trạng thái bản sao (the portal's kind reads no copy status)"
        )
    return mapping, portal_status
