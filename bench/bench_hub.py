"""End-to-end sync of the hub on Redis and PostgreSQL, measured in CPU time per dossier, beside a no-op Dramatiq actor.

The simulators run in their own process, the hub in two Dramatiq worker processes x 8 threads, on a Redis server of
its own (so its CPU is the hub's alone) and a fresh PostgreSQL database. Phase 1 syncs a backlog of dossiers (every
dossier to the portal, and liên thông decisions back to the receiving communes); during it the benchmark reads
/proc for the CPU time of every worker process, of the PostgreSQL backends serving the benchmark's database and of
its Redis server, counts the workers' database statements, transactions and pings (:mod:`bench.sqlcount`) and the
HTTP requests the simulators answered. A no-op actor's CPU per message, same broker and worker shape, is the floor.
Phase 2 makes changes at the source once a second, polls, and reports the p50 and p99 time from a change at the
source to its arrival at the portal.

Run: ``.venv/bin/python -m bench.bench_hub`` (about two minutes); writes bench/results/hub.txt.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "hub.txt"
DOSSIERS = int(os.environ.get("BENCH_HUB_DOSSIERS", "2000"))
NOOP_MESSAGES = int(os.environ.get("BENCH_HUB_NOOP", "20000"))
LATENCY_SECONDS = 20
PROCESSES, THREADS = 2, 8
SEED = 5
PG_ADMIN = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOPOLOGY = ROOT / "config" / "topologies" / "quang-nam-2023.yaml"
TICKS = os.sysconf("SC_CLK_TCK")
CREDENTIALS = {
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME": "hub",
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD": "hub-secret",
    "DVC_HUB_CRED_DVCQG_USERNAME": "hub",
    "DVC_HUB_CRED_DVCQG_PASSWORD": "hub-secret",
}
# The simulators, with every HTTP request they answer counted; "counts" on stdin prints the counts.
_SIMULATORS = """
import json
import sys
from collections import Counter
from pathlib import Path
from foundation.topology import load
from simulators import server

requests = Counter()

def counted(create):
    def build(*args, **kwargs):
        app = create(*args, **kwargs)
        async def asgi(scope, receive, send):
            if scope["type"] == "http":
                requests[scope["path"]] += 1
            await app(scope, receive, send)
        return asgi
    return build

server.soap.create_app = counted(server.soap.create_app)
server.portal.create_app = counted(server.portal.create_app)
sims = server.Simulators(load(Path(sys.argv[1])), seed=int(sys.argv[2]), dossiers=int(sys.argv[3])).start()
print(sims.soap_url, sims.portal_url, len(sims.source_state()), flush=True)
for line in sys.stdin:
    print(json.dumps(dict(requests)), flush=True)
sims.stop()
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process (/proc/<pid>/stat, fields 14 and 15)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return out


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def backends(db_name: str) -> set[int]:
    """The PostgreSQL server processes serving ``db_name`` (the machine's other databases are not ours)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,)).fetchall()
    return {int(pid) for (pid,) in rows}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A Redis server of the benchmark's own, without persistence: its CPU is the hub's alone."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, url


def start_workers(env: dict[str, str], workdir: Path, modules: list[str], extra: list[str]) -> subprocess.Popen[bytes]:
    log = (workdir / f"{modules[0]}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", *modules, "-p", str(PROCESSES), "-t", str(THREADS), *extra],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def stop_workers(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class CpuMeter:
    """CPU seconds of process groups between :meth:`start` and :meth:`stop`; processes seen at either end count."""

    def __init__(self, **groups: object) -> None:
        self.groups = groups  # name -> callable returning the group's pids
        self._start: dict[str, dict[int, float]] = {}
        self.used: dict[str, float] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: cpu_seconds(find()) for name, find in self.groups.items()}  # type: ignore[operator]

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> None:
        end = self._sample()
        self.used = {
            name: sum(t - self._start[name].get(pid, 0.0) for pid, t in end[name].items()) for name in self.groups
        }


def _sql_counts(directory: Path) -> dict[str, int]:
    total = {"statements": 0, "transactions": 0, "pings": 0}
    for path in directory.glob("*.json"):
        try:
            for key, value in json.loads(path.read_text()).items():
                total[key] += int(value)
        except ValueError:
            continue  # caught mid-write; the next read has it
    return total


def _noop_cpu(env: dict[str, str], workdir: Path, redis_proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """A no-op actor's messages/s and CPU ms per message (workers + Redis): enqueue everything, time the drain."""
    from bench import noop

    noop.broker.flush_all()
    for n in range(NOOP_MESSAGES):
        noop.noop.send(n)
    workers = start_workers(env, workdir, ["bench.noop"], ["-Q", "bench-noop"])
    meter = CpuMeter(workers=lambda: descendants(workers.pid), redis=lambda: {redis_proc.pid})
    meter.start()
    started = time.perf_counter()
    try:
        noop.broker.join("bench-noop", timeout=300_000)
        elapsed = time.perf_counter() - started
        meter.stop()
    finally:
        stop_workers(workers)
    return NOOP_MESSAGES / elapsed, sum(meter.used.values()) * 1000 / NOOP_MESSAGES


class Simulators:
    """The simulators' process: its URLs, the dossiers at the source, and its HTTP request counts on demand."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SIMULATORS, str(TOPOLOGY), str(SEED), str(DOSSIERS)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.soap_url, self.portal_url, at_source = self.proc.stdout.readline().split()
        self.at_source = int(at_source)

    def requests(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("counts\n")
        self.proc.stdin.flush()
        counts: dict[str, int] = json.loads(self.proc.stdout.readline())
        return sum(counts.values())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@dataclass
class Rig:
    """What both hub benchmarks run on: a fresh PostgreSQL database with the schema and the procedure mapping, the
    simulators, a Redis server of its own, and the environment of the hub's worker processes."""

    workdir: Path
    db_name: str
    db: Any  # hub.store.db.Database, imported once the environment is set
    sims: Simulators
    redis_proc: subprocess.Popen[bytes]
    redis_url: str
    env: dict[str, str]


@contextmanager
def rig(prefix: str) -> Iterator[Rig]:
    """Set the benchmark's world up, and take it down afterwards whatever happened."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    db_name = f"dvchub_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{db_name}"
    sims = Simulators()
    redis_proc, redis_url = start_redis(workdir)
    os.environ.update(CREDENTIALS, DVC_HUB_BROKER_URL=redis_url, DVC_HUB_DATABASE_URL=database_url)
    # imported after the environment is set: the hub's settings and broker are read once per process
    from devtools.devcluster import hub_env, retarget_topology
    from hub import procedures
    from hub.store.db import Database
    from migrations import upgrade
    from simulators.catalogue import build

    topology = retarget_topology(
        TOPOLOGY, workdir / "topology.yaml", {"motcua-quangnam": sims.soap_url, "dvcqg": f"{sims.portal_url}/dvcqg"}
    )
    os.environ["DVC_HUB_TOPOLOGY_FILE"] = str(topology)
    env = hub_env(database_url=database_url, broker_url=redis_url, topology_file=topology) | CREDENTIALS
    try:
        upgrade(database_url)
        db = Database(database_url)
        mapping = build(SEED).mapping()
        procedures.import_csv(db, "local_code,national_code\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
        try:
            yield Rig(workdir, db_name, db, sims, redis_proc, redis_url, env)
        finally:
            db.dispose()
    finally:
        sims.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def main() -> None:
    with rig("bench") as r:
        counts_dir = r.workdir / "sqlcount"
        counts_dir.mkdir()
        noop_rate, noop_ms = _noop_cpu(r.env, r.workdir, r.redis_proc)
        redis.Redis.from_url(r.redis_url).flushdb()
        workers = start_workers(
            r.env | {"BENCH_SQLCOUNT_DIR": str(counts_dir)},
            r.workdir,
            ["hub.actors", "hub.worker_boot", "bench.sqlcount"],
            ["--skip-logging"],
        )
        time.sleep(3)  # worker boot: importing zeep, parsing the WSDL on first use
        try:
            meter = CpuMeter(
                workers=lambda: descendants(workers.pid),
                postgresql=lambda: backends(r.db_name),
                redis=lambda: {r.redis_proc.pid},
            )
            sql_before, http_before = _sql_counts(counts_dir), r.sims.requests()
            meter.start()
            dossiers, messages, elapsed = _sync_backlog(r.db, r.sims.at_source)
            meter.stop()
            time.sleep(1)  # the workers' counters are written twice a second
            sql_after, http_after = _sql_counts(counts_dir), r.sims.requests()
            p50, p99, samples = _latency(r.db, r.sims.soap_url)
        finally:
            stop_workers(workers)
    hub_rate = dossiers / elapsed
    cpu = {name: used * 1000 / dossiers for name, used in meter.used.items()}
    sql = {key: (sql_after[key] - sql_before[key]) / dossiers for key in sql_after}
    round_trips = sql["statements"] + 2 * sql["transactions"] + sql["pings"]
    lines = [
        f"hub end-to-end sync (Redis + PostgreSQL, {PROCESSES} processes x {THREADS} threads, simulators in their"
        " own process)",
        f"  backlog: {dossiers} dossiers at the portal in {elapsed:.1f} s = {hub_rate:.1f} dossiers/s"
        f" ({messages} hub messages, {messages / elapsed:.1f} messages/s)",
        f"hub cpu per dossier: {sum(cpu.values()):.1f} ms (workers {cpu['workers']:.1f}, postgresql"
        f" {cpu['postgresql']:.1f}, redis {cpu['redis']:.1f})",
        f"db round trips per dossier: {round_trips:.1f} (transactions {sql['transactions']:.1f}, statements"
        f" {sql['statements']:.1f}, pool pings {sql['pings']:.1f})",
        f"http calls per dossier: {(http_after - http_before) / dossiers:.2f}",
        f"no-op dramatiq cpu per message: {noop_ms:.2f} ms (workers + redis; {noop_rate:.0f} messages/s)",
        f"  change at source -> arrival at the portal: p50 {p50:.2f} s, p99 {p99:.2f} s"
        f" over {samples} deliveries (polling every second)",
        f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n", encoding="utf-8")


def _poll_all(db: object) -> None:
    from foundation.settings import get_settings
    from foundation.topology import load
    from hub.sync import request_poll

    topology = load(get_settings().topology_file)
    for unit in topology.active_units():
        if unit.system:
            request_poll(db, str(unit.system), unit.code, reason="bench")  # type: ignore[arg-type]


def _portal_deliveries(db: object) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from hub.store.models import Delivery, Message, MessageState

    in_flight = [s.value for s in MessageState if s.in_flight]
    with db.session() as session:  # type: ignore[attr-defined]
        delivered = session.execute(
            select(func.count(func.distinct(Delivery.dossier_code))).where(Delivery.target == "dvcqg")
        ).scalar_one()
        busy = session.execute(
            select(func.count()).select_from(Message).where(Message.state.in_(in_flight))
        ).scalar_one()
        total = session.execute(select(func.count()).select_from(Message)).scalar_one()
    return int(delivered), int(busy), int(total)


def _sync_backlog(db: object, at_source: int) -> tuple[int, int, float]:
    started = time.perf_counter()
    _poll_all(db)
    while True:
        delivered, busy, total = _portal_deliveries(db)
        if delivered >= at_source and busy == 0:
            return delivered, total, time.perf_counter() - started
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"backlog not synced in 600 s: {delivered}/{at_source} delivered, {busy} in flight")
        time.sleep(0.2)


def _latency(db: object, soap_url: str) -> tuple[float, float, int]:
    """Change the source once a second and poll; latency = portal delivery time − the change's wall time."""
    from sqlalchemy import select

    from hub.store.models import Delivery, Message

    control = soap_url.rsplit("/", 1)[0] + "/_control/advance"
    changes: list[float] = []
    with db.session() as session:  # type: ignore[attr-defined]
        first_id = session.execute(select(Message.id).order_by(Message.id.desc()).limit(1)).scalar() or 0
    end = time.time() + LATENCY_SECONDS
    while time.time() < end:
        changes.append(time.time())
        requests.post(control, json={"hours": 0.5}, timeout=30)
        _poll_all(db)
        time.sleep(max(0.0, changes[-1] + 1.0 - time.time()))
    deadline = time.time() + 120
    while _portal_deliveries(db)[1] and time.time() < deadline:
        time.sleep(0.2)
    with db.session() as session:  # type: ignore[attr-defined]
        rows = session.execute(
            select(Message.created_at, Delivery.delivered_at)
            .join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.target == "dvcqg", Message.id > first_id)
        ).all()
    samples: list[float] = []
    for created, delivered in rows:
        made = [t for t in changes if t <= created.timestamp()]
        if made:
            samples.append(delivered.timestamp() - made[-1])
    if not samples:
        raise RuntimeError("no delivery measured in the latency phase")
    return _percentile(samples, 0.5), _percentile(samples, 0.99), len(samples)


if __name__ == "__main__":
    main()
