"""End-to-end sync throughput of the hub on Redis and PostgreSQL, beside a no-op Dramatiq actor on the same broker.

The simulators run in their own process, the hub in two Dramatiq worker processes × 8 threads, the no-op baseline
in the same shape. Phase 1 syncs a backlog of dossiers (every dossier to the portal, and liên thông decisions back
to the receiving communes) and reports dossiers/s and hub messages/s; the no-op actor's messages/s on the same
Redis is measured in the same run. Phase 2 makes changes at the source once a second, polls, and reports the p50 and
p99 time from a change at the source to its arrival at the portal.

Run: ``.venv/bin/python -m bench.bench_hub`` (about two minutes); writes bench/results/hub.txt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
import requests
from sqlalchemy import func, select

from devtools.devcluster import Cluster, hub_env, retarget_topology
from foundation.settings import get_settings
from foundation.topology import load
from hub import procedures
from hub.store.db import Database
from hub.store.models import Delivery, Message, MessageState
from hub.sync import request_poll
from migrations import upgrade
from simulators.catalogue import build

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "hub.txt"
DOSSIERS = int(os.environ.get("BENCH_HUB_DOSSIERS", "2000"))
NOOP_MESSAGES = int(os.environ.get("BENCH_HUB_NOOP", "20000"))
LATENCY_SECONDS = 20
PROCESSES, THREADS = 2, 8
SEED = 5
PG_ADMIN = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
TOPOLOGY = ROOT / "config" / "topologies" / "quang-nam-2023.yaml"
CREDENTIALS = {
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_USERNAME": "hub",
    "DVC_HUB_CRED_MOTCUA_QUANGNAM_PASSWORD": "hub-secret",
    "DVC_HUB_CRED_DVCQG_USERNAME": "hub",
    "DVC_HUB_CRED_DVCQG_PASSWORD": "hub-secret",
}
_SIMULATORS = """
import sys
from pathlib import Path
from foundation.topology import load
from simulators.server import Simulators
sims = Simulators(load(Path(sys.argv[1])), seed=int(sys.argv[2]), dossiers=int(sys.argv[3])).start()
print(sims.soap_url, sims.portal_url, len(sims.source_state()), flush=True)
sys.stdin.read()
sims.stop()
"""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _noop_rate(env: dict[str, str], workdir: Path) -> float:
    """Messages/s of a no-op actor: enqueue everything, then time the workers draining the queue."""
    # Importing the no-op actor binds Dramatiq's global broker to the Redis URL in the environment, so it waits
    # until the benchmark has set that environment, and stays out of every other benchmark's process.
    from bench import noop

    noop.broker.flush_all()
    for n in range(NOOP_MESSAGES):
        noop.noop.send(n)
    log = (workdir / "noop.log").open("wb")
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "bench.noop",
        "-p",
        str(PROCESSES),
        "-t",
        str(THREADS),
        "-Q",
        "bench-noop",
    ]
    started = time.perf_counter()
    workers = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        noop.broker.join("bench-noop", timeout=300_000)
        elapsed = time.perf_counter() - started
    finally:
        workers.terminate()
        workers.wait(timeout=30)
        log.close()
    return NOOP_MESSAGES / elapsed


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    db_name = f"dvchub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{db_name}"
    sims = subprocess.Popen(
        [sys.executable, "-c", _SIMULATORS, str(TOPOLOGY), str(SEED), str(DOSSIERS)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert sims.stdout is not None
    soap_url, portal_url, at_source = sims.stdout.readline().split()
    os.environ.update(CREDENTIALS, DVC_HUB_BROKER_URL=REDIS_URL, DVC_HUB_DATABASE_URL=database_url)
    topology = retarget_topology(
        TOPOLOGY, workdir / "topology.yaml", {"motcua-quangnam": soap_url, "dvcqg": f"{portal_url}/dvcqg"}
    )
    os.environ["DVC_HUB_TOPOLOGY_FILE"] = str(topology)
    env = hub_env(database_url=database_url, broker_url=REDIS_URL, topology_file=topology) | CREDENTIALS
    redis.Redis.from_url(REDIS_URL).flushdb()
    lines: list[str] = []
    try:
        noop_rate = _noop_rate(env, workdir)
        upgrade(database_url)
        db = Database(database_url)
        mapping = build(SEED).mapping()
        procedures.import_csv(db, "local_code,national_code\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
        redis.Redis.from_url(REDIS_URL).flushdb()
        cluster = Cluster(env, workdir)
        for _ in range(PROCESSES):
            cluster.start_worker(processes=1, threads=THREADS)
        time.sleep(3)  # worker boot: importing zeep, parsing the WSDL on first use
        try:
            dossiers, messages, elapsed = _sync_backlog(db, int(at_source))
            p50, p99, samples = _latency(db, soap_url)
        finally:
            cluster.stop()
        db.dispose()
        hub_rate = dossiers / elapsed
        lines = [
            f"hub end-to-end sync (Redis + PostgreSQL, {PROCESSES} processes x {THREADS} threads, simulators in their"
            " own process)",
            f"  backlog: {dossiers} dossiers at the portal in {elapsed:.1f} s = {hub_rate:.1f} dossiers/s"
            f" ({messages} hub messages, {messages / elapsed:.1f} messages/s)",
            f"  no-op Dramatiq actor, same broker and worker shape: {noop_rate:.0f} messages/s",
            f"  ratio hub dossiers/s : no-op messages/s = {hub_rate / noop_rate:.3f}"
            f"   (hub messages/s : no-op messages/s = {messages / elapsed / noop_rate:.3f}; goal >= 0.5)",
            f"  change at source -> arrival at the portal: p50 {p50:.2f} s, p99 {p99:.2f} s"
            f" over {samples} deliveries (polling every second)",
        ]
    finally:
        assert sims.stdin is not None
        sims.stdin.close()
        sims.wait(timeout=30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    text = "\n".join(lines)
    print(text)
    RESULTS.write_text(text + "\n", encoding="utf-8")


def _poll_all(db: Database) -> None:
    topology = load(get_settings().topology_file)
    for unit in topology.active_units():
        if unit.system:
            request_poll(db, str(unit.system), unit.code, reason="bench")


def _portal_deliveries(db: Database) -> tuple[int, int, int]:
    in_flight = [s.value for s in MessageState if s.in_flight]
    with db.session() as session:
        delivered = session.execute(
            select(func.count(func.distinct(Delivery.dossier_code))).where(Delivery.target == "dvcqg")
        ).scalar_one()
        busy = session.execute(
            select(func.count()).select_from(Message).where(Message.state.in_(in_flight))
        ).scalar_one()
        total = session.execute(select(func.count()).select_from(Message)).scalar_one()
    return int(delivered), int(busy), int(total)


def _sync_backlog(db: Database, at_source: int) -> tuple[int, int, float]:
    started = time.perf_counter()
    _poll_all(db)
    while True:
        delivered, busy, total = _portal_deliveries(db)
        if delivered >= at_source and busy == 0:
            return delivered, total, time.perf_counter() - started
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"backlog not synced in 600 s: {delivered}/{at_source} delivered, {busy} in flight")
        time.sleep(0.2)


def _latency(db: Database, soap_url: str) -> tuple[float, float, int]:
    """Change the source once a second and poll; latency = portal delivery time − the change's wall time."""
    control = soap_url.rsplit("/", 1)[0] + "/_control/advance"
    changes: list[float] = []
    with db.session() as session:
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
    with db.session() as session:
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
