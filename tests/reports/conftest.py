"""Fixtures of the report tests that print documents the way an office does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reports import rendering


@pytest.fixture(scope="session")
def office_tools() -> None:
    """LibreOffice (headless) and poppler, installed from Debian's packages if the machine lacks them."""
    rendering.ensure_tools()


@pytest.fixture
def libreoffice(office_tools: None, tmp_path: Path) -> Callable[[Path], Path]:
    """Prints a document to PDF with LibreOffice headless, in the test's own folder (tens of seconds: slow tier)."""
    return lambda document: rendering.to_pdf(document, tmp_path)
