"""Every ``try it`` block of the docs runs as written, in a scratch folder holding the repository's files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.conftest import Shell

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r'^```bash title="try it"\n(.*?)^```', re.S | re.M)
# What the blocks read: the shipped topologies and profiles, the recorded answers, the docs themselves.
LINKED = ("config", "mappings", "tests", "docs", "simulators")


def blocks(page: Path) -> list[str]:
    return FENCE.findall(page.read_text(encoding="utf-8"))


PAGES = [page for page in sorted(DOCS.rglob("*.md")) if blocks(page)]


def test_the_tutorial_and_the_references_have_blocks_to_try() -> None:
    names = {page.relative_to(DOCS).as_posix() for page in PAGES}
    assert {"onboarding-a-vendor.md", "reference/topology.md", "operations/runbook.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(DOCS).as_posix())
def test_every_try_it_block_of_a_page_runs(page: Path, shell: Shell, tmp_path: Path) -> None:
    # Given a scratch folder that looks like the repository's root to the commands
    for name in LINKED:
        (tmp_path / name).symlink_to(ROOT / name)
    # When each block runs in turn, as a reader would run them (later blocks use what earlier ones wrote)
    for number, script in enumerate(blocks(page), start=1):
        done = shell(script, tmp_path)
        # Then it succeeds (a command that must fail is written `command || test $? -eq 1`)
        assert done.returncode == 0, f"{page.name} block {number}:\n{script}\n--- output:\n{done.stdout}{done.stderr}"
