"""The console's background work: evaluate alerts every minute and work through running replay jobs.

One loop thread per console process; a cross-process mutex (the broker's rate limiter, Redis in production) makes
sure that with several console replicas only one evaluates alerts or runs a given job at a time.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from console.alerts import AlertSettings, evaluate
from foundation import logs
from hub import replay
from hub.broker import singleton
from hub.store.db import Database
from hub.store.models import ReplayJob

log = logs.get_logger(__name__)


class Background:
    """Alerts every ``alert_interval`` seconds; replay jobs a batch at a time every ``job_interval`` seconds."""

    def __init__(
        self, db: Database, alerts: AlertSettings, *, alert_interval: float = 60.0, job_interval: float = 1.0
    ) -> None:
        self.db = db
        self.alerts = alerts
        self.alert_interval = alert_interval
        self.job_interval = job_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="admin-background", daemon=True)

    def start(self) -> Background:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_jobs_once(self) -> int:
        """One batch of every running replay job; returns how many jobs ran."""
        with self.db.session() as session:
            running = list(session.scalars(select(ReplayJob.id).where(ReplayJob.state == "running")))
        for job_id in running:
            with singleton(f"replay-job:{job_id}", ttl_ms=60_000).acquire(raise_on_failure=False) as acquired:
                if acquired:
                    replay.run_job(self.db, job_id, max_batches=1)
        return len(running)

    def evaluate_alerts_once(self) -> None:
        ttl = int(self.alert_interval * 1000)
        with singleton("admin-alerts", ttl_ms=ttl).acquire(raise_on_failure=False) as acquired:
            if acquired:
                evaluate(self.db, self.alerts)

    def _run(self) -> None:
        waited = self.alert_interval  # evaluate once at start
        while not self._stop.is_set():
            try:
                if waited >= self.alert_interval:
                    waited = 0.0
                    self.evaluate_alerts_once()
                self.run_jobs_once()
            except Exception:  # the loop must outlive a database hiccup; the next round tries again
                log.exception("admin_background_failed")
            self._stop.wait(self.job_interval)
            waited += self.job_interval
