"""Prometheus metrics at ``/metrics``, read from the integration log at scrape time.

They name targets, units and incidents, so the console serves them only to a scraper with the configured bearer
token; without one configured, ``dvc-hub admin --metrics-port`` serves them on a separate (internal) address instead.

A collector rather than counters kept in this process: the console may run several replicas and restart at any
time, while the database already knows the backlog, the parked messages and the open incidents.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from console.models import Incident
from console.queries import RECENT, targets_health
from foundation.clock import utcnow
from hub.store.db import Database
from hub.store.models import Watermark
from reports.models import LateDossier

router = APIRouter(include_in_schema=False)


class LogCollector(Collector):
    """Gauges per target and unit from the small in-flight, parked and watermark sets."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        backlog = GaugeMetricFamily("dvc_hub_backlog_messages", "Messages waiting per target", labels=["target"])
        oldest = GaugeMetricFamily(
            "dvc_hub_oldest_waiting_seconds", "Age of the oldest waiting message per target", labels=["target"]
        )
        parked = GaugeMetricFamily("dvc_hub_parked_messages", "Parked messages per target", labels=["target"])
        recent = GaugeMetricFamily(
            "dvc_hub_recent_messages", "Messages created in the last 15 minutes", labels=["target", "outcome"]
        )
        paused = GaugeMetricFamily(
            "dvc_hub_target_paused", "1 when deliveries to the target are paused", labels=["target"]
        )
        lag = GaugeMetricFamily(
            "dvc_hub_sync_lag_seconds", "Time since a unit's poll watermark", labels=["system", "unit"]
        )
        incidents = GaugeMetricFamily("dvc_hub_open_incidents", "Open alert incidents", labels=["kind"])
        late = GaugeMetricFamily("dvc_hub_late_dossiers", "Late dossiers found by the daily scan")
        with self.db.session() as session:
            for t in targets_health(session, now=now, known=[], recent=RECENT):
                backlog.add_metric([t.target], t.backlog)
                parked.add_metric([t.target], t.parked)
                oldest.add_metric([t.target], (now - t.oldest_waiting).total_seconds() if t.oldest_waiting else 0)
                recent.add_metric([t.target, "succeeded"], t.recent_ok)
                recent.add_metric([t.target, "failed"], t.recent_failed)
                paused.add_metric([t.target], 1 if t.paused else 0)
            for wm in session.scalars(select(Watermark)):
                lag.add_metric([wm.system, wm.unit_code], (now - wm.value).total_seconds())
            for kind, count in session.execute(
                select(Incident.kind, func.count()).where(Incident.state == "open").group_by(Incident.kind)
            ):
                incidents.add_metric([kind], count)
            late.add_metric([], session.scalar(select(func.count()).select_from(LateDossier)) or 0)
        yield from (backlog, oldest, parked, recent, paused, lag, incidents, late)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    # An empty token (DVC_HUB_CONSOLE_METRICS_TOKEN= left blank) is no token: it would let "Bearer " in.
    expected = (request.app.state.console.metrics_token or "").strip()
    if not expected:
        raise HTTPException(status_code=404, detail="Chỉ số không phục vụ ở đây (metrics are served on --metrics-port)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status_code=401, detail="Cần bearer token (token required)", headers={"WWW-Authenticate": "Bearer"}
        )
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def registry_for(db: Database) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LogCollector(db))
    return registry
