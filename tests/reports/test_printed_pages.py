"""The official workbook and the apology letter as LibreOffice prints them: each form sheet on one A4 landscape page
(one page wide, as set), the letter on one A4 portrait page, and a page image made of each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reports import rendering

A4_LANDSCAPE, A4_PORTRAIT = (841.92, 595.32), (595.32, 841.92)


def test_each_sheet_prints_on_one_a4_landscape_page_and_the_letter_on_one_a4_portrait_page(
    libreoffice: Callable[[Path], Path], tmp_path: Path
) -> None:
    workbook, letter = rendering.documents(tmp_path)

    sheets, apology = libreoffice(workbook), libreoffice(letter)

    # Three sheets (district form, commune form, register), each fitted to one page wide: three landscape pages
    assert rendering.pages(sheets) == [pytest.approx(A4_LANDSCAPE, abs=2)] * 3
    assert rendering.pages(apology) == [pytest.approx(A4_PORTRAIT, abs=2)]
    image = rendering.to_png(sheets, tmp_path / "page", 2)
    assert image.stat().st_size > 10_000  # a page with the form on it, not a blank one
