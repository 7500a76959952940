"""Private PostgreSQL, Redis and RabbitMQ servers that a test or a benchmark owns and may stop, kill and restart.

The shared services on the standard ports belong to everybody on the machine (and to the CI job's other tests);
a chaos scenario restarts only its own instance, started here on a free port with its own data directory, and
removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Self

import redis

PG_BIN = Path(os.environ.get("DVC_HUB_PG_BIN", "/usr/lib/postgresql/15/bin"))
RABBITMQ_BIN = Path(os.environ.get("DVC_HUB_RABBITMQ_BIN", "/usr/lib/rabbitmq/bin"))
# rabbitmqctl opens its own distribution ports in this range; a node must listen elsewhere
_RABBITMQ_CLI_PORTS = range(35672, 35683)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _RABBITMQ_CLI_PORTS:
            return port


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    """Return once something accepts connections on ``port``; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s") from None
            time.sleep(0.1)


def _run(args: list[str], **kwargs: object) -> None:
    subprocess.run(args, check=True, capture_output=True, timeout=120, **kwargs)  # type: ignore[call-overload]  # noqa: S603 - fixed server binaries


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: ``initdb`` in a temporary directory, ``pg_ctl`` to start and restart it.

    PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dvchub-pg-"))
        self.data = self.dir / "data"
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> Self:
        if not self.data.exists():
            if self._as:
                shutil.chown(self.dir, "postgres")
            _run([*self._as, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"])
        self._ctl("start", "-w")
        return self

    def restart(self) -> None:
        """A fast shutdown and start, as ``pg_ctlcluster restart`` does: every open connection is cut."""
        self._ctl("restart", "-w", "-m", "fast")

    def shut_down(self) -> None:
        """The first half of a restart (fast shutdown, data kept), so a test can act while the server is away;
        :meth:`start` is the second half."""
        self._ctl("stop", "-w", "-m", "fast")

    def stop(self) -> None:
        """Stop the server if it runs (a test may have left it shut down) and remove its data."""
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-w", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        _run([*self._as, str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-o", options,
              *args])  # fmt: skip


class PrivateRedis:
    """A Redis server without persistence; :meth:`kill` is a crash (SIGKILL), :meth:`start` brings it back empty."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dvchub-redis-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Self:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.dir)]  # fmt: skip
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        wait_for_port(self.port)
        return self

    def kill(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        self._proc.wait(timeout=30)

    def flush(self) -> None:
        """FLUSHDB: the server stays up and forgets everything it held (queues, delayed retries, locks)."""
        client = redis.Redis.from_url(self.url)
        try:
            client.flushdb()
        finally:
            client.close()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A RabbitMQ node of its own (node name, ports, cookie, data directory) beside the machine's shared one.

    :meth:`restart_app` is ``rabbitmqctl stop_app`` then ``start_app``: connections drop, durable queues and
    persistent messages survive.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="dvchub-rabbitmq-"))
        self.node = f"dvchub{uuid.uuid4().hex[:8]}@localhost"
        (self.dir / "rabbitmq.conf").write_text("loopback_users = none\n", encoding="utf-8")
        (self.dir / "enabled_plugins").write_text("[].\n", encoding="utf-8")
        (self.dir / "none.conf").write_text("", encoding="utf-8")
        self.env = {
            **os.environ,
            "HOME": str(self.dir),  # its own Erlang cookie, shared with the rabbitmqctl calls below
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "none.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self) -> Self:
        _run([str(RABBITMQ_BIN / "rabbitmq-server"), "-detached"], env=self.env)
        try:
            # -detached returns before the node is known to epmd, when rabbitmqctl cannot reach it yet; the AMQP
            # port opens once it boots
            wait_for_port(self.port, timeout=180)
            self._ctl("await_startup", "--timeout", "120")
        except BaseException:
            self.stop()
            raise
        return self

    def restart_app(self) -> None:
        self._ctl("stop_app")
        self._ctl("start_app")
        wait_for_port(self.port)

    def stop(self) -> None:
        try:
            self._ctl("shutdown")
        except subprocess.CalledProcessError:
            pass  # not running (a start that failed): nothing to shut down
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def _ctl(self, *args: str) -> None:
        _run([str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args], env=self.env)
