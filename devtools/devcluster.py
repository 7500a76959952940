"""A production-shaped hub on one machine: Dramatiq worker processes against Redis and PostgreSQL.

Used by the chaos test and the benchmarks, and handy for developers: each worker group is its own process group,
so a test can SIGKILL one mid-run exactly as a crashed machine would, and start another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from foundation.settings import PROJECT_ROOT


def hub_env(*, database_url: str, broker_url: str, topology_file: Path, **settings: Any) -> dict[str, str]:
    """The environment of a hub process: the machine's, plus the given settings as ``DVC_HUB_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_HUB_")}
    env.update(
        DVC_HUB_DATABASE_URL=database_url,
        DVC_HUB_BROKER_URL=broker_url,
        DVC_HUB_TOPOLOGY_FILE=str(topology_file),
        DVC_HUB_ENVIRONMENT="production",
        DVC_HUB_LOG_LEVEL=str(settings.pop("log_level", "WARNING")),
    )
    env.update({f"DVC_HUB_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def retarget_topology(source: Path, out: Path, base_urls: Mapping[str, str], **system_overrides: Any) -> Path:
    """A copy of a topology file whose systems point at other base URLs (simulators on ephemeral ports)."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for system in data["systems"]:
        if system["name"] in base_urls:
            system["base_url"] = base_urls[system["name"]]
        system.update(system_overrides.get(system["name"], {}))
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


@dataclass
class Cluster:
    """Worker groups started with :meth:`start_worker`; :meth:`stop` ends them all."""

    env: dict[str, str]
    log_dir: Path
    groups: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start_worker(
        self, *, processes: int = 1, threads: int = 8, queues: list[str] | None = None
    ) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "cli.main", "worker", "-p", str(processes), "-t", str(threads)]
        for queue in queues or []:
            args += ["-Q", queue]
        log = (self.log_dir / f"worker-{len(self.groups)}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            args, env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.groups.append(proc)
        return proc

    def log_paths(self) -> list[Path]:
        """Every worker group's output (standard output and error), one file each."""
        return sorted(self.log_dir.glob("worker-*.log"))

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole worker group, as a crashed machine: no graceful shutdown, no acks."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        for proc in self.groups:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.groups:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for log in self._logs:
            log.close()
