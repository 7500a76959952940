"""docker-compose.yml, checked without a Docker engine: every ``dvc-hub`` command parses with the real CLI, every
``DVC_HUB_*`` variable is a real setting (or a credentials variable of a system the topology names), every file a
service refers to exists in the image, and the trial's systems point at the simulators service's ports."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer._click.core import Command  # typer vendors its own click: its classes and errors are not click's
from typer._click.exceptions import UsageError
from typer.core import TyperGroup
from typer.main import get_command

from cli.main import app
from foundation.errors import ConfigurationError
from foundation.settings import PROJECT_ROOT, Settings
from foundation.topology import load

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
IMAGE_ROOT = "/app/"  # the Dockerfile's WORKDIR, where the checkout is copied
CREDENTIAL = re.compile(r"^DVC_HUB_CRED_(?P<ref>[A-Z0-9_]+)_(USERNAME|PASSWORD)$")


def _cli_problem(args: list[str]) -> str | None:
    """Parse ``dvc-hub ARGS`` with the real command tree, options included, without running anything."""
    command: Command = get_command(app)
    try:
        ctx = command.make_context("dvc-hub", list(args), resilient_parsing=False)
        while isinstance(command, TyperGroup):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:
                break
            name, sub, rest = command.resolve_command(ctx, rest)
            if sub is None:
                return f"no command {name!r}"
            command = sub
            ctx = sub.make_context(name or "", rest, parent=ctx)
    except UsageError as exc:
        return exc.format_message()
    return None


def _in_image(path: str) -> Path | None:
    return PROJECT_ROOT / path.removeprefix(IMAGE_ROOT) if path.startswith(IMAGE_ROOT) else None


def problems(compose: dict[str, Any]) -> list[str]:
    """Everything wrong with a parsed compose file, each naming the service."""
    out: list[str] = []
    settings = {f"DVC_HUB_{name.upper()}" for name in Settings.model_fields}
    ports = _simulator_ports(compose)
    for name, service in compose["services"].items():
        if service.get("build") is not None and not (PROJECT_ROOT / service["build"] / "Dockerfile").exists():
            out.append(f"{name}: no Dockerfile in {service['build']}")
        command = service.get("command") or []
        if command[:1] == ["dvc-hub"] and (problem := _cli_problem(command[1:])):
            out.append(f"{name}: {' '.join(command)}: {problem}")
        env = service.get("environment") or {}
        for key, value in env.items():
            if key.startswith("DVC_HUB_") and key not in settings and not CREDENTIAL.match(key):
                out.append(f"{name}: {key} is not a setting")
            if key in {"DVC_HUB_TOPOLOGY_FILE", "DVC_HUB_TOPOLOGY_OVERLAY"}:
                local = _in_image(str(value))
                if local is None or not local.is_file():
                    out.append(f"{name}: {key}={value} is not a file of the image")
        out += [f"{name}: {p}" for p in _topology_problems(env, ports)]
    return out


def _simulator_ports(compose: dict[str, Any]) -> dict[str, set[int]]:
    """The ports each ``dvc-hub simulate`` service listens on, by service name."""
    out: dict[str, set[int]] = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if command[:2] == ["dvc-hub", "simulate"]:
            out[name] = {int(command[i + 1]) for i, arg in enumerate(command) if arg.endswith("-port")}
    return out


def _topology_problems(env: dict[str, Any], simulators: dict[str, set[int]]) -> list[str]:
    topology_file = _in_image(str(env.get("DVC_HUB_TOPOLOGY_FILE", "")))
    if topology_file is None or not topology_file.is_file():
        return []
    overlay = _in_image(str(env["DVC_HUB_TOPOLOGY_OVERLAY"])) if "DVC_HUB_TOPOLOGY_OVERLAY" in env else None
    if overlay is not None and not overlay.is_file():
        return []
    topology = load(topology_file, overlay)
    out = []
    refs = {s.credentials.upper().replace("-", "_") for s in topology.systems.values() if s.credentials}
    for key in env:
        match = CREDENTIAL.match(key)
        if match and match["ref"] not in refs:
            out.append(f"{key}: no system has the credentials reference {match['ref']}")
    if overlay is not None:  # the trial: every system must be one of the simulators' ports
        for system in topology.systems.values():
            url = urlsplit(system.base_url)
            if url.port not in simulators.get(url.hostname or "", set()):
                out.append(f"system {system.name} points at {url.netloc}, which no simulators service listens on")
    return out


def test_the_compose_file_names_only_real_commands_settings_and_files() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert problems(compose) == []
    trial = {name for name, s in compose["services"].items() if "trial" in s.get("profiles", [])}
    assert {"simulators", "worker-trial", "scheduler-trial", "admin-trial"} <= trial


@pytest.mark.parametrize(
    ("service", "change", "expected"),
    [
        ("worker", {"command": ["dvc-hub", "workers", "-p", "2"]}, "No such command 'workers'"),
        ("worker", {"command": ["dvc-hub", "worker", "--procs", "2"]}, "--procs"),
        ("scheduler", {"environment": {"DVC_HUB_BROKER_URI": "redis://redis"}}, "DVC_HUB_BROKER_URI is not a setting"),
        ("admin", {"environment": {"DVC_HUB_TOPOLOGY_FILE": "/app/config/x.yaml"}}, "not a file of the image"),
        (
            "worker-trial",
            {
                "environment": {
                    "DVC_HUB_TOPOLOGY_FILE": "/app/config/topologies/quang-nam-2023.yaml",
                    "DVC_HUB_TOPOLOGY_OVERLAY": "/app/config/topologies/da-nang-2025.yaml",
                }
            },
            "only a 'systems:' list",
        ),
        (
            "admin-trial",
            {
                "environment": {
                    "DVC_HUB_TOPOLOGY_FILE": "/app/config/topologies/quang-nam-2023.yaml",
                    "DVC_HUB_TOPOLOGY_OVERLAY": "/app/config/overlays/compose-trial.yaml",
                    "DVC_HUB_CRED_PORTAL_USERNAME": "x",
                }
            },
            "no system has the credentials reference PORTAL",
        ),
    ],
)
def test_the_check_catches_a_broken_compose_file(service: str, change: dict[str, Any], expected: str) -> None:
    compose = copy.deepcopy(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))
    compose["services"][service].update(change)
    try:
        found = problems(compose)
    except ConfigurationError as exc:  # a broken overlay is refused by the topology loader itself
        found = [str(exc)]
    assert any(expected in p for p in found), found


def test_the_trial_overlay_points_the_hub_at_the_simulators_not_at_itself() -> None:
    base = PROJECT_ROOT / "config" / "topologies" / "quang-nam-2023.yaml"
    plain = load(base)
    trial = load(base, PROJECT_ROOT / "config" / "overlays" / "compose-trial.yaml")
    assert {urlsplit(s.base_url).hostname for s in plain.systems.values()} == {"127.0.0.1"}
    assert {urlsplit(s.base_url).hostname for s in trial.systems.values()} == {"simulators"}
    # everything but the base URLs is the province's file
    for name, system in plain.systems.items():
        assert system.model_copy(update={"base_url": trial.systems[name].base_url}) == trial.systems[name]
