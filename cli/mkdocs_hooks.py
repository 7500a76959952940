"""The docs site's hook (``mkdocs.yml``): fills each page's ``<!-- generated: NAME -->`` markers from the code.

It lives in ``cli`` because the command reference needs the ``dvc-hub`` command itself, which only ``cli`` imports;
the other sections come from :mod:`devtools.docgen`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cli.main import app
from devtools import docgen

SECTIONS: dict[str, Callable[[], str]] = {**docgen.SECTIONS, "cli": lambda: docgen.commands(app)}


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    return docgen.render(markdown, SECTIONS)
