"""Imported by each Dramatiq worker process: configures logging and starts the reconciler beside the workers."""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Middleware

from foundation import logs
from foundation.settings import get_settings
from hub import context
from hub.broker import get_broker
from hub.worker import Reconciler

settings = get_settings()
logs.configure(settings.log_level, settings.effective_log_format)


class ReconcilerMiddleware(Middleware):
    """Start the reconciler when the worker boots and stop it on shutdown."""

    def __init__(self) -> None:
        self._reconciler: Reconciler | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._reconciler = Reconciler(context.current()).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self._reconciler is not None:
            self._reconciler.stop()


get_broker().add_middleware(ReconcilerMiddleware())
