"""The pipeline tests again, on RabbitMQ: a private node (never the machine's shared one), durable queues, the same
middleware and integration log. The chaos matrix has the RabbitMQ restart scenario."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import dramatiq
import pika
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from devtools.servers import PrivateRabbitMQ
from foundation.settings import PROJECT_ROOT
from hub.worker import queue_depth_of

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.redis, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def rabbitmq() -> Iterator[PrivateRabbitMQ]:
    node = PrivateRabbitMQ().start()
    yield node
    node.stop()


def test_the_pipeline_tests_pass_on_rabbitmq(rabbitmq: PrivateRabbitMQ, redis_url: str) -> None:
    env = {**os.environ, "DVC_HUB_BROKER_URL": rabbitmq.url, "DVC_HUB_REDIS_URL": redis_url}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--show-capture=no",
            "tests/hub/test_pipeline.py",
        ],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # the tests really went through this node: its durable queues exist and were drained
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    try:
        channel = connection.channel()
        for queue in ("poll", "sync", "deliver"):
            declared = channel.queue_declare(queue=queue, durable=True, passive=True)
            assert declared.method.message_count == 0, queue
    finally:
        connection.close()


def test_the_reconciler_reads_queue_depths_again_after_the_node_restarts(rabbitmq: PrivateRabbitMQ) -> None:
    """The chaos stress caught it: after the node restarted, every reconcile round failed on a closed channel, and a
    delivery the restart lost stayed queued until the run timed out."""
    broker = RabbitmqBroker(url=rabbitmq.url, confirm_delivery=True)  # the count below sees the enqueue
    broker.declare_queue("deliver")
    depth = queue_depth_of(broker)
    assert depth is not None
    try:
        # Given a reconciler that has read the queue (its thread's channel is open)
        assert depth("deliver") == 0
        # When the node restarts under it
        rabbitmq.restart_app()
        # Then the next round reads the depth on a new channel instead of failing (no enqueue in between: an
        # enqueue reopens a dead channel by itself, the depth did not)
        assert depth("deliver") == 0
        broker.enqueue(dramatiq.Message(queue_name="deliver", actor_name="a", args=(), kwargs={}, options={}))
        assert depth("deliver") == 1
    finally:
        broker.close()
