"""README is the front door: short, and the two commands a newcomer needs come before anything else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_stays_under_250_lines() -> None:
    assert len(README.splitlines()) < 250


def test_the_readme_shows_make_demo_and_make_test_before_anything_else() -> None:
    # the first code block is the first thing a reader can run, and it is the two commands
    first_block = re.search(r"```\w*\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    assert README.index("make demo") < README.index("##")  # before the first section heading


def test_every_page_the_readme_links_exists() -> None:
    links = re.findall(r"\]\(([^)#]+\.md)\)", README)
    assert links, "the README points at the documentation"
    assert [link for link in links if not (ROOT / link).exists()] == []
