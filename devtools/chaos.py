"""The chaos matrix: the whole hub on real services, one disruption per scenario, and the verdict at the end.

Each scenario runs two worker processes against its own database and broker, lets the simulated one-stop-shop
produce a few thousand dossiers, disrupts something mid-run (a database restart, a broker crash, a source outage,
a hanging portal, a worker killed in a batch push, the database restored from an earlier dump) and checks that the
portal ends equal to the source: nothing missing, nothing pushed twice, no status going backwards, nothing parked.
A failure tells, per missing dossier, the story of its messages. Used by ``tests/hub/test_chaos_matrix.py`` and
``bench/stress_chaos.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
import yaml
from sqlalchemy import func, select

from devtools.devcluster import Cluster, hub_env
from devtools.servers import PrivatePostgres, PrivateRabbitMQ, PrivateRedis
from foundation.redaction import mask_text
from foundation.settings import PROJECT_ROOT
from foundation.topology import load
from hub import control, procedures
from hub.store.db import Database
from hub.store.models import Attempt, Delivery, Message, MessageState, Watermark
from migrations import upgrade
from simulators.records import HoSo
from simulators.server import Simulators

TOPOLOGY = PROJECT_ROOT / "config" / "topologies" / "quang-nam-2023.yaml"
IN_FLIGHT = [s.value for s in MessageState if s.in_flight]
DRAIN_SECONDS = 480  # generous: CI machines are shared, and a slow drain is not a lost dossier
CREDENTIALS = {
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME": "hub",
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD": "hub-secret",
    "DVC_HUB_CRED_DVCQG_USERNAME": "hub",
    "DVC_HUB_CRED_DVCQG_PASSWORD": "hub-secret",
}


@dataclass(frozen=True)
class Services:
    """Where a run's database and broker are; the private servers a scenario may disrupt, if it owns them."""

    database_url: str
    broker_url: str
    redis_url: str | None = None
    postgres: PrivatePostgres | None = None
    redis: PrivateRedis | None = None
    rabbitmq: PrivateRabbitMQ | None = None


@dataclass
class Run:
    """One scenario's hub: simulators, the integration log, the worker processes."""

    sims: Simulators
    db: Database
    env: dict[str, str]
    cluster: Cluster
    services: Services
    dossiers: int
    workdir: Path

    def poll_all(self) -> None:
        """What the scheduler does: one poll per unit, recorded and enqueued by a separate process."""
        subprocess.run(
            [sys.executable, "-m", "cli.main", "poll"], env=self.env, cwd=PROJECT_ROOT, check=True, capture_output=True
        )

    def delivered(self) -> int:
        with self.db.session() as session:
            return int(session.execute(select(func.count()).select_from(Delivery)).scalar_one())

    def in_flight(self, kinds: tuple[str, ...] | None = None) -> int:
        with self.db.session() as session:
            query = select(func.count()).select_from(Message).where(Message.state.in_(IN_FLIGHT))
            if kinds is not None:
                query = query.where(Message.kind.in_(kinds))
            return int(session.execute(query).scalar_one())

    def in_flight_summary(self) -> list[tuple[object, ...]]:
        """(kind, state, error class, how many, the oldest's id, its attempts) of the messages still in flight."""
        with self.db.session() as session:
            rows = session.execute(
                select(
                    Message.kind,
                    Message.state,
                    Message.error_class,
                    func.count(),
                    func.min(Message.id),
                    func.max(Message.attempts),
                )
                .where(Message.state.in_(IN_FLIGHT))
                .group_by(Message.kind, Message.state, Message.error_class)
            ).all()
        return [tuple(row) for row in rows]

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``condition`` until it holds; a database that is briefly away counts as "not yet"."""
        deadline = time.monotonic() + timeout
        while True:
            with suppress(Exception):  # the database may be restarting on purpose: that is "not yet"
                if condition():
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting until {what}")
            time.sleep(0.5)

    def under_way(self, share: float = 0.2) -> None:
        """Wait until a share of the dossiers has reached the portal: the disruption then hits a busy pipeline."""
        target = int(self.dossiers * share)
        self.wait_until(lambda: self.delivered() >= target, 300, f"{target} deliveries are recorded")

    def story(self, code: str) -> list[tuple[object, ...]]:
        """Every message about a dossier, for a failure message that says what happened to it."""
        with self.db.session() as session:
            rows = session.execute(
                select(Message.id, Message.kind, Message.state, Message.target, Message.error_class, Message.result)
                .where(Message.dossier_code == code)
                .order_by(Message.id)
            ).all()
        return [tuple(row) for row in rows]

    def attempt_log(self, codes: Iterable[str]) -> Path:
        """Write every message about ``codes`` with each of its tries (worker, outcome, error, the redacted request
        and answer) and the portal's pushes to a file, in full: an assertion's repr cuts what the failure needs."""
        path = self.workdir / "attempt-log.txt"
        with self.db.session() as session, path.open("a", encoding="utf-8") as out:
            for code in sorted(set(codes)):
                out.write(f"=== {code}\nportal's pushes (status, source version): {self.portal_history(code)}\n")
                messages = session.execute(
                    select(Message).where(Message.dossier_code == code).order_by(Message.id)
                ).scalars()
                for m in messages:
                    out.write(f"message {m.id} {m.kind} v{m.dossier_version} {m.state} target={m.target} "
                              f"source={m.source} error={m.error_class} result={m.result}\n")  # fmt: skip
                    tries = session.execute(
                        select(Attempt).where(Attempt.message_id == m.id).order_by(Attempt.number, Attempt.id)
                    ).scalars()
                    for a in tries:
                        out.write(f"  try {a.number} {a.outcome} {a.started_at:%H:%M:%S.%f}-"
                                  f"{a.finished_at and f'{a.finished_at:%H:%M:%S.%f}'} worker={a.worker} "
                                  f"error={a.error_class}: {a.error_message} request={a.request_redacted} "
                                  f"response={a.response_redacted}\n")  # fmt: skip
        return path

    def source_copies(self, code: str) -> list[tuple[object, ...]]:
        """Each unit's copy of a dossier at the source: (unit, revision, status, change time), and for that unit the
        hub's watermark and its polls after the first (state, since, changes seen, syncs recorded)."""
        store = self.sims.store
        out: list[tuple[object, ...]] = []
        for unit in store.units():
            if not store.has(unit, code):
                continue
            copy = store.get(unit, code)
            with self.db.session() as session:
                mark = session.scalar(select(Watermark.value).where(Watermark.unit_code == unit))
                polls = session.execute(
                    select(Message.state, Message.result)
                    .where(Message.kind == "poll", Message.unit_code == unit)
                    .order_by(Message.id)
                ).all()
            seen = [
                (state, (r or {}).get("since"), (r or {}).get("changes"), (r or {}).get("recorded"))
                for state, r in polls[1:]
            ]
            out.append((unit, copy.PhienBan, copy.TrangThai, str(copy.NgayCapNhat), f"watermark {mark}", seen))
        return out

    def portal_history(self, code: str) -> list[tuple[object, ...]]:
        """The records the portal accepted for a dossier, in order: (status, the source revision they carried)."""
        found = self.sims.portal_state.dossier(code)
        return [(h["status"], h["source_version"]) for h in found["history"]] if found else []

    def problems(self) -> list[str]:
        """Everything that makes the run a failure, each with the evidence; empty when the portal equals the source."""
        out: list[str] = []
        with self.db.session() as session:
            parked = session.execute(
                select(Message.kind, Message.error_class, func.count(), func.max(Message.error_message))
                .where(Message.state == MessageState.PARKED.value)
                .group_by(Message.kind, Message.error_class)
            ).all()
        if parked:
            out.append(f"parked messages: {[tuple(row) for row in parked]}")
        source = self.sims.source_state()
        portal = self.sims.portal_dossiers()
        if len(source) < self.dossiers:
            out.append(f"the source holds {len(source)} dossiers, fewer than the {self.dossiers} asked for")
        missing = sorted(set(source) - set(portal))
        if missing:
            stories = {code: self.story(code) for code in missing[:3]}
            out.append(f"{len(missing)} dossiers missing on the portal; the first ones' messages: {stories}")
        mismatched = {
            code: (record.TrangThai, portal[code].get("TrangThaiHoSo"))
            for code, record in source.items()
            if code in portal and str(portal[code].get("TrangThaiHoSo")) != str(record.TrangThai)
        }
        if mismatched:
            first = dict(list(mismatched.items())[:3])
            pushed = {code: self.portal_history(code) for code in first}
            out.append(f"{len(mismatched)} dossiers with another status on the portal (source, portal): {first}; "
                       f"portal's pushes (status, source version): {pushed}; "
                       f"source copies: { {code: self.source_copies(code) for code in first} }; "
                       f"messages: { {code: self.story(code) for code in first} }")  # fmt: skip
        leaked = personal_values_logged(self.cluster.log_paths(), self.sims.source_state().values())
        if leaked:
            out.append(f"{len(leaked)} personal values of the source's applicants in the workers' logs (masked): "
                       f"{[mask_text(value) for value in leaked[:5]]}")  # fmt: skip
        stats = self.sims.portal_stats()
        for name in ("duplicates", "regressions"):
            if stats[name]:
                codes = {str(entry.get("MaHoSo")) for entry in stats[name] if isinstance(entry, dict)}
                out.append(f"{len(stats[name])} {name} at the portal: {stats[name][:5]}; every message and try of "
                           f"those dossiers in {self.attempt_log(codes)}")  # fmt: skip
        if missing or mismatched:
            out.append(f"every message and try of the first missing or mismatched dossiers in "
                       f"{self.attempt_log([*missing[:3], *list(mismatched)[:3]])}")  # fmt: skip
        return out


def personal_values_logged(logs: Iterable[Path], records: Iterable[HoSo]) -> list[str]:
    """The applicants' personal values (as written and decomposed) that any of ``logs`` carries.

    Single-word values (ID numbers, phones, e-mails) are looked up among the logs' words; names and addresses, few
    and shared by many dossiers, are searched for in the whole text.
    """
    text = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)
    words = set(re.findall(r"[\w.@+-]+", text))
    leaked: set[str] = set()
    for record in records:
        applicant = record.ChuHoSo
        for value in (applicant.HoTen, applicant.SoGiayTo, applicant.MaDoiTuong, applicant.Email,
                      applicant.SoDienThoai, applicant.DiaChi):  # fmt: skip
            if not value or len(value) < 5:
                continue
            for form in {value, unicodedata.normalize("NFD", value)}:
                if (form in words) if " " not in form else (form in text):
                    leaked.add(value)
    return sorted(leaked)


Disruption = Callable[[Run], None]


@dataclass(frozen=True)
class Scenario:
    """A named disruption and the services it needs to own."""

    name: str
    disrupt: Disruption
    broker: Literal["redis", "rabbitmq"] = "redis"
    private_postgres: bool = False


def _advance_and_poll(run: Run) -> None:
    run.sims.advance(6)
    run.poll_all()


def restart_postgres(run: Run) -> None:
    """PostgreSQL restarted (fast shutdown: every connection cut) while workers push."""
    assert run.services.postgres is not None
    run.under_way()
    run.services.postgres.restart()
    _advance_and_poll(run)


def restart_redis(run: Run) -> None:
    """The Redis process killed (everything it held is gone) and started again empty."""
    assert run.services.redis is not None
    run.under_way()
    run.services.redis.kill()
    run.services.redis.start()
    _advance_and_poll(run)


def source_outage(seconds: float) -> Disruption:
    """The one-stop-shop answers nothing but 503 for ``seconds``; polls and fetches keep trying meanwhile."""

    def disrupt(run: Run) -> None:
        run.under_way()
        run.sims.set_fault("soap", error_rate=1.0, error_status=503)
        run.sims.advance(6)
        run.poll_all()
        started = time.monotonic()
        run.wait_until(lambda: time.monotonic() - started >= seconds, seconds + 10, "the outage is over")
        run.sims.clear_faults("soap")
        run.poll_all()

    return disrupt


def portal_hangs(seconds: float) -> Disruption:
    """Every portal call hangs (no answer, connection held) for ``seconds``; the hub's timeout turns it into retries."""

    def disrupt(run: Run) -> None:
        run.under_way()
        run.sims.set_fault("dvcqg", hang_rate=1.0, hang_seconds=4)
        _advance_and_poll(run)
        started = time.monotonic()
        run.wait_until(lambda: time.monotonic() - started >= seconds, seconds + 10, "the portal answers again")
        run.sims.clear_faults("dvcqg")

    return disrupt


def kill_worker_in_batch_push(run: Run) -> None:
    """A worker group SIGKILLed while its threads are inside slow batch pushes; a replacement starts."""
    run.sims.set_fault("dvcqg", latency_ms=400)  # every push takes a while: the kill lands inside some
    run.under_way(0.1)
    run.cluster.kill(run.cluster.groups[0])
    run.cluster.start_worker(processes=1, threads=8)
    _advance_and_poll(run)
    run.sims.clear_faults("dvcqg")


def kill_worker_and_restart_rabbitmq(run: Run) -> None:
    """On RabbitMQ: a worker group SIGKILLed, then the broker's app stopped and started (durable queues survive)."""
    assert run.services.rabbitmq is not None
    run.sims.set_fault("dvcqg", latency_ms=200)
    run.under_way(0.1)
    run.cluster.kill(run.cluster.groups[0])
    run.cluster.start_worker(processes=1, threads=8)
    run.services.rabbitmq.restart_app()
    _advance_and_poll(run)
    run.sims.clear_faults("dvcqg")


def kill_and_flush_with_a_failing_portal(run: Run) -> None:
    """The portal failing 30% of calls (errors and hangs) throughout; a worker group SIGKILLed and replaced; then
    the broker's Redis flushed, every queued message and lock forgotten; at last the portal recovers."""
    assert run.services.redis is not None
    run.sims.set_fault("dvcqg", error_rate=0.2, error_status=503, hang_rate=0.1, hang_seconds=3)
    run.under_way(0.1)
    run.cluster.kill(run.cluster.groups[0])
    run.cluster.start_worker(processes=1, threads=8)
    _advance_and_poll(run)
    run.under_way(0.2)  # the replacement has taken work when the broker loses everything, as in an outage
    run.services.redis.flush()
    _advance_and_poll(run)
    run.under_way(0.3)  # the pipeline runs on, with a broker that forgot its queues
    run.sims.clear_faults()


def restore_database(run: Run) -> None:
    """The hub's database restored from a dump taken earlier in the run, while the sources and the portal moved on:
    what the operator does is ``docs/rebuild.md`` (workers stopped, the dump restored, the broker's queues emptied,
    the portal paused, the workers started again with ``verify_deliveries_until`` an hour ahead, the portal resumed
    once the polls have caught up)."""
    assert run.services.redis is not None
    url = run.services.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    dump = run.workdir / "hub.dump"
    run.under_way(0.2)
    # the PostgreSQL client on PATH, with our own arguments
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", url], check=True, capture_output=True)  # noqa: S603,S607
    _advance_and_poll(run)
    run.under_way(0.6)  # deliveries the dump does not know of reach the portal
    run.cluster.stop()
    # into an empty schema: pg_restore --clean cannot drop a partition's inherited keys (the attempts table)
    run.db.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    subprocess.run(  # noqa: S603 - our own arguments
        ["pg_restore", "--single-transaction", f"--dbname={url}", str(dump)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    run.services.redis.flush()  # its messages name rows of a future the database no longer has
    # deliveries wait until the polls have caught up: the restored log's deliveries of revisions older than the
    # portal's copies are then superseded, not sent
    control.pause_target(run.db, "dvcqg", reason="database restored: catching up", user="chaos")
    until = datetime.now(UTC) + timedelta(hours=1)
    run.cluster.env = run.cluster.env | {"DVC_HUB_VERIFY_DELIVERIES_UNTIL": until.isoformat()}
    run.cluster.start_worker(processes=1, threads=8)
    run.cluster.start_worker(processes=1, threads=8)
    _advance_and_poll(run)
    run.wait_until(lambda: run.in_flight(kinds=("poll", "sync")) == 0, DRAIN_SECONDS, "the polls have caught up")
    control.resume_target(run.db, "dvcqg", user="chaos")


def matrix(outage_seconds: float) -> list[Scenario]:
    """Every scenario; ``outage_seconds`` is how long the source is down and the portal hangs."""
    return [
        Scenario("postgres-restart", restart_postgres, private_postgres=True),
        Scenario("redis-restart", restart_redis),
        Scenario("source-down", source_outage(outage_seconds)),
        Scenario("portal-hangs", portal_hangs(outage_seconds)),
        Scenario("worker-killed-in-batch", kill_worker_in_batch_push),
        Scenario("rabbitmq-worker-killed-and-restarted", kill_worker_and_restart_rabbitmq, broker="rabbitmq"),
        Scenario("kill-and-flush-with-a-failing-portal", kill_and_flush_with_a_failing_portal),
        Scenario("restore", restore_database),
    ]


@contextmanager
def services_for(scenario: Scenario, *, shared_postgres: str) -> Iterator[Services]:
    """The scenario's database and broker: a private PostgreSQL when it restarts it, else a fresh database on
    ``shared_postgres`` (an admin URL, ``postgresql://postgres@host:port/postgres``); always a private Redis (the
    broker, or the locks beside RabbitMQ), so runs never share queues; a private RabbitMQ node when it uses one.
    """
    with ExitStack() as stack:
        postgres = rabbitmq = None
        if scenario.private_postgres:
            postgres = stack.enter_context(_owned(PrivatePostgres()))
            database_url = postgres.url
        else:
            database_url = stack.enter_context(_fresh_database(shared_postgres))
        redis_server = stack.enter_context(_owned(PrivateRedis()))
        broker_url, redis_url = redis_server.url, None
        if scenario.broker == "rabbitmq":
            rabbitmq = stack.enter_context(_owned(PrivateRabbitMQ()))
            broker_url, redis_url = rabbitmq.url, redis_server.url
        yield Services(database_url, broker_url, redis_url, postgres, redis_server, rabbitmq)


@contextmanager
def _owned(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _fresh_database(admin_url: str) -> Iterator[str]:
    name = f"dvchub_chaos_{time.monotonic_ns()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgresql+psycopg://" + admin_url.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_scenario(scenario: Scenario, services: Services, workdir: Path, *, dossiers: int, seed: int = 77) -> list[str]:
    """Run one scenario until the pipeline has drained; what went wrong (see :meth:`Run.problems`), empty if nothing."""
    upgrade(services.database_url)
    db = Database(services.database_url)
    try:
        return _run(scenario, services, workdir, db, dossiers=dossiers, seed=seed)
    finally:
        db.dispose()


def _run(scenario: Scenario, services: Services, workdir: Path, db: Database, *, dossiers: int, seed: int) -> list[str]:
    with Simulators(load(TOPOLOGY), seed=seed, dossiers=dossiers) as sims:
        topology_file = sims.topology_file(workdir / "topology.yaml")
        data = yaml.safe_load(topology_file.read_text(encoding="utf-8"))
        for system in data["systems"]:
            system["timeout"] = 2  # a hanging remote must turn into a retryable timeout quickly
        topology_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        catalogue = sims.catalogue.mapping().items()
        procedures.import_csv(
            db, "local_code,national_code\n" + "".join(f"{k},{v}\n" for k, v in catalogue), user="chaos"
        )
        extra = {"redis_url": services.redis_url} if services.redis_url else {}
        env = hub_env(
            database_url=services.database_url,
            broker_url=services.broker_url,
            topology_file=topology_file,
            reconcile_after_seconds=8,
            retry_min_backoff_ms=200,
            retry_max_backoff_ms=2000,
            retry_max_attempts=1000,
            log_level="INFO",  # every event a worker logs in production, searched for personal values at the end
            **extra,
        )
        run = Run(sims, db, env | CREDENTIALS, Cluster(env | CREDENTIALS, workdir), services, dossiers, workdir)
        stuck: list[str] = []
        try:
            run.cluster.start_worker(processes=1, threads=8)
            run.cluster.start_worker(processes=1, threads=8)
            run.poll_all()
            scenario.disrupt(run)
            run.poll_all()
            run.wait_until(lambda: run.in_flight() == 0, DRAIN_SECONDS, "nothing is in flight")
        except AssertionError as exc:  # a wait timed out: say what is still in flight, and below what else is wrong
            stuck.append(f"{exc}; still in flight (kind, state, error, count, oldest id, most tries): "
                         f"{run.in_flight_summary()}")  # fmt: skip
        finally:
            run.cluster.stop()
        return stuck + run.problems()
