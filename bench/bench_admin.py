"""Admin console at scale: 1 million integration-log rows in PostgreSQL; search by dossier code and the dashboard.

Loads the rows with one ``generate_series`` INSERT (30 days of traffic, 200,000 dossiers, a few thousand parked or
retrying), then times the console's own query for a dossier code (p50/p99 over random codes) against a primary-key
lookup measured in the same run, and the dashboard page rendered over HTTP by the real app. Targets: search p99
< 50 ms, dashboard < 300 ms. Needs the PostgreSQL server of DVC_HUB_TEST_POSTGRES_URL (trust auth on 127.0.0.1).
"""

from __future__ import annotations

import os
import random
import re
import socket
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import uvicorn

from console.app import Console, create_app
from console.auth import Role, create_user
from console.queries import SearchFilter, search
from hub.store.db import Database
from hub.store.models import Message
from migrations import upgrade

ROWS = 1_000_000
SEARCHES = 1000
RENDERS = 20
ADMIN_URL = os.environ.get("DVC_HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).resolve().parent / "results" / "admin.txt"

# Dossier d = g / 5 gets a unique code from its mixed-radix digits: unit (17), month (12), day (28), counter.
CODE_SQL = """
'000.' || lpad(((g / 5) % 17 + 1)::text, 2, '0') || '.17.H47-24'
  || lpad(((g / 5) / 17 % 12 + 1)::text, 2, '0') || lpad(((g / 5) / 204 % 28 + 1)::text, 2, '0')
  || '-' || lpad(((g / 5) / 5712 + 1)::text, 4, '0')
"""
# Only this module's constants are interpolated into the SQL.
LOAD_SQL = f"""
INSERT INTO messages (kind, actor, queue, state, dossier_code, dossier_version, unit_code, procedure_code, source,
                      target, attempts, error_class, error_message, payload, payload_redacted, created_at, updated_at)
SELECT
  CASE WHEN g % 5 = 0 THEN 'sync' ELSE 'deliver' END,
  CASE WHEN g % 5 = 0 THEN 'sync_dossier' ELSE 'deliver_dossier' END,
  CASE WHEN g % 5 = 0 THEN 'sync' ELSE 'deliver' END,
  CASE WHEN g % 997 = 0 THEN 'parked' WHEN g > {ROWS} - 300 AND g % 7 = 0 THEN 'retrying'
       WHEN g > {ROWS} - 50 THEN 'queued' ELSE 'succeeded' END,
  {CODE_SQL},
  1 + g % 5,
  (20965 + (g / 5) % 17 * 3)::text,
  'NT-' || lpad((g % 300)::text, 3, '0'),
  'motcua-quangnam:' || (20965 + (g / 5) % 17 * 3)::text,
  CASE WHEN g % 5 = 0 THEN NULL WHEN g % 5 IN (1, 2) THEN 'dvcqg' ELSE 'motcua-quangnam:517' END,
  1 + (g % 997 = 0)::int * 4,
  CASE WHEN g % 997 = 0 THEN (ARRAY['mapping_missing', 'remote_rejected', 'validation_failed'])[1 + g % 3] END,
  CASE WHEN g % 997 = 0 THEN 'Cổng DVCQG từ chối hồ sơ (portal refused)' END,
  jsonb_build_object('dossier_code', {CODE_SQL}, 'version', 1 + g % 5),
  jsonb_build_object('dossier_code', {CODE_SQL}, 'version', 1 + g % 5),
  now() - make_interval(secs => ({ROWS} - g) * 2.592),
  now() - make_interval(secs => ({ROWS} - g) * 2.592) + interval '2 seconds'
FROM generate_series(1, {ROWS}) AS g
"""  # noqa: S608


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(url: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(LOAD_SQL)
        conn.execute("ANALYZE")
    return time.perf_counter() - started


def time_searches(db: Database, codes: list[str]) -> tuple[list[float], list[float]]:
    """The console's dossier-code search, and a primary-key lookup as the baseline, in milliseconds."""
    found, baseline = [], []
    with db.session() as session:
        top = session.query(Message.id).order_by(Message.id.desc()).limit(1).scalar() or 1
        for code in codes:
            started = time.perf_counter()
            page = search(session, SearchFilter(dossier_code=code), personal=True)
            found.append((time.perf_counter() - started) * 1000)
            assert page.rows, code
            started = time.perf_counter()
            session.get(Message, random.randint(1, top), populate_existing=True)
            baseline.append((time.perf_counter() - started) * 1000)
    return found, baseline


def time_dashboard(db: Database) -> list[float]:
    """The dashboard page over HTTP, as a signed-in viewer gets it, in milliseconds."""
    with db.session() as session:
        create_user(session, "bench", "bench-password-1", Role.VIEWER)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(Console(db=db)), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    timings = []
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
            assert csrf is not None
            http.post("/login", data={"username": "bench", "password": "bench-password-1", "csrf": csrf.group(1)})
            for _ in range(RENDERS + 2):
                started = time.perf_counter()
                page = http.get("/")
                timings.append((time.perf_counter() - started) * 1000)
                assert page.status_code == 200 and "dvcqg" in page.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    return timings[2:]  # the first renders warm the template cache and the connection pool


def main() -> None:
    name = f"dvchub_bench_admin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        load_s = load(url)
        db = Database(url)
        with db.session() as session:
            codes = random.Random(8).sample(
                [
                    c
                    for (c,) in session.execute(
                        Message.__table__.select()
                        .with_only_columns(Message.dossier_code)
                        .where(Message.id % 997 == 1)
                        .limit(5000)
                    )
                    if c is not None  # a poll message names no dossier
                ],
                SEARCHES,
            )
        found, baseline = time_searches(db, codes)
        dashboard = time_dashboard(db)
        db.dispose()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    p50, p99 = statistics.median(found), percentile(found, 0.99)
    b50 = statistics.median(baseline)
    d50, dmax = statistics.median(dashboard), max(dashboard)
    lines = [
        f"admin console on PostgreSQL, {ROWS:,} integration-log rows (loaded in {load_s:.1f} s)",
        f"search by dossier code ({SEARCHES} random codes): p50 {p50:.2f} ms, p99 {p99:.2f} ms "
        f"(target p99 < 50 ms: {'ok' if p99 < 50 else 'MISSED'})",
        f"baseline primary-key lookup: p50 {b50:.2f} ms; search/baseline = {p50 / b50:.1f}x",
        f"dashboard page over HTTP ({RENDERS} renders): median {d50:.1f} ms, max {dmax:.1f} ms "
        f"(target < 300 ms: {'ok' if dmax < 300 else 'MISSED'})",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
