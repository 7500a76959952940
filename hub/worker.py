"""Running the hub's workers: Dramatiq worker processes against Redis or RabbitMQ in production, worker threads in this
process for the embedded default; and the reconciler loop that runs beside them.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
import pika.exceptions
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from foundation import logs
from hub import context
from hub.broker import get_broker, singleton
from hub.reconcile import QueueDepth, reconcile

log = logs.get_logger(__name__)


class Reconciler:
    """Run :func:`hub.reconcile.reconcile` every ``interval`` seconds; across processes only one runs at a time."""

    def __init__(self, ctx: context.HubContext, *, interval: float | None = None) -> None:
        self.ctx = ctx
        self.interval = interval or max(1.0, ctx.settings.reconcile_after_seconds / 5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> Reconciler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> None:
        ttl = int(self.interval * 1000)
        with singleton("reconciler", ttl_ms=ttl).acquire(raise_on_failure=False) as acquired:
            if acquired:
                reconcile(
                    self.ctx.db,
                    after_seconds=self.ctx.settings.reconcile_after_seconds,
                    queue_depth=broker_queue_depth(),
                )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the loop must outlive a database hiccup; the next round tries again
                log.exception("reconcile_failed")


def broker_queue_depth() -> QueueDepth | None:
    """How many messages the broker holds for a queue; None in-process.

    Redis counts queued, delayed and in-progress messages. RabbitMQ only tells how many wait in a queue and its
    delay queue, not the ones workers hold unacknowledged (in hand or waiting for their retry time), so under
    RabbitMQ the reconciler errs towards sending a stale message again, which the idempotent actors absorb. The
    in-process broker lives and dies with its process, so there is nothing to compare its queues with.
    """
    return queue_depth_of(get_broker())


def queue_depth_of(broker: dramatiq.Broker) -> QueueDepth | None:
    """:func:`broker_queue_depth` for ``broker``."""
    if isinstance(broker, RedisBroker):
        return lambda queue: int(broker.do_qsize(queue))
    if isinstance(broker, RabbitmqBroker):
        return lambda queue: _rabbitmq_depth(broker, queue)
    return None


def _rabbitmq_depth(broker: RabbitmqBroker, queue: str) -> int:
    """Messages waiting in ``queue`` and its delay queue. A node that restarted leaves this thread's channel closed,
    and Dramatiq reopens it only for an enqueue: the reconciler dropped it and asked again, every round, forever,
    while the messages the restart lost waited for it. So a dead channel is dropped and the question asked once
    more on a new one."""
    try:
        return sum(broker.get_queue_message_counts(queue)[:2])
    except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError):
        del broker.connection  # and its channel: the next use opens new ones
    return sum(broker.get_queue_message_counts(queue)[:2])  # a second failure is the round's, logged by the loop


# The modules declaring actors, named as Dramatiq's own runner takes them: the hub's, and the daily jobs of the
# reports above it (reconciliation, the late scan), which the hub runs without importing them.
ACTOR_MODULES = ("hub.actors", "reports.actors")


@contextmanager
def embedded_workers(ctx: context.HubContext, *, threads: int | None = None) -> Iterator[dramatiq.Worker]:
    """Worker threads on the in-process broker, with the reconciler, for as long as the block runs."""
    # Importing the actors declares them, which builds this process's broker from the settings (hub.actors): only
    # a process that runs workers may do that, so the import waits until workers start.
    for module in ACTOR_MODULES:
        importlib.import_module(module)

    context.install(ctx)
    worker = dramatiq.Worker(get_broker(), worker_threads=threads or ctx.settings.worker_threads, worker_timeout=100)
    worker.start()
    reconciler = Reconciler(ctx).start()
    try:
        yield worker
    finally:
        reconciler.stop()
        worker.stop()


def run_processes(processes: int, threads: int, queues: list[str] | None) -> None:
    """Replace this process with Dramatiq's own runner: worker processes, signal handling, graceful shutdown."""
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        *ACTOR_MODULES,
        "hub.worker_boot",
        "-p",
        str(processes),
        "-t",
        str(threads),
        "--skip-logging",
    ]
    if queues:
        args += ["-Q", *queues]
    os.execv(sys.executable, args)  # noqa: S606 - our own interpreter and module, no shell
