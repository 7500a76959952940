"""A shell for the docs' commands: bash with the project's ``dvc-hub`` first on PATH and nothing of this machine's
``DVC_HUB_*`` settings, so a block shows what a reader's fresh checkout does."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

Shell = Callable[[str, Path], subprocess.CompletedProcess[str]]


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    """Runs a script with ``bash -euo pipefail`` in a folder (marks the test ``subprocess``)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DVC_HUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_HUB_DATABASE_URL"] = f"sqlite:///{tmp_path / 'hub.sqlite3'}"  # never the repository's var/
    env["COLUMNS"] = "200"

    def run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )

    return run
