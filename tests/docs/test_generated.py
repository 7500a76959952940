"""The generated parts of the docs cover what the code has, so they cannot go stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import console.alerts
from cli.mkdocs_hooks import SECTIONS
from devtools import docgen
from foundation.errors import ERROR_CLASSES
from foundation.settings import Settings
from systems import registry

DOCS = Path(__file__).resolve().parents[2] / "docs"


def incident_kinds() -> set[str]:
    """The incident kinds the console opens (its enum)."""
    return {str(kind) for kind in console.alerts.IncidentKind}


def test_the_runbook_has_words_for_exactly_the_error_classes_the_log_can_hold() -> None:
    words = docgen.runbook()["error_classes"]
    assert set(words) == {*ERROR_CLASSES, "unexpected"}
    assert all(entry["meaning"].strip() and entry["action"].strip() for entry in words.values())


def test_the_runbook_has_words_for_exactly_the_incidents_the_console_opens() -> None:
    assert incident_kinds()  # the reading of the source still finds them
    assert set(docgen.runbook()["incidents"]) == incident_kinds()


def test_the_error_class_table_lists_each_class_with_what_the_hub_does() -> None:
    table = docgen.error_classes()
    for name, action in ERROR_CLASSES.items():
        assert re.search(rf"^\| `{name}` \| {action.value} \|", table, re.M), name


def test_a_class_without_words_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    words = docgen.runbook()
    del words["error_classes"]["remote_timeout"]
    monkeypatch.setattr(docgen, "runbook", lambda: words)
    with pytest.raises(docgen.MissingWords, match="remote_timeout"):
        docgen.error_classes()


def test_the_configuration_reference_names_every_setting() -> None:
    text = docgen.configuration()
    assert [name for name in Settings.model_fields if f"`DVC_HUB_{name.upper()}`" not in text] == []
    assert "`DVC_HUB_ALERT_WEBHOOK_URL`" in text


def test_the_topology_reference_has_every_built_in_kind_and_its_own_options() -> None:
    text = docgen.topology()
    for kind in registry.BUILTIN:
        assert f"kind `{kind}`" in text
    assert "`vendor_file`" in text and "`poll_interval`" in text and "`max_answer_bytes`" in text


def test_the_command_reference_has_every_command() -> None:
    text = SECTIONS["cli"]()
    for command in ("vendor probe", "config check", "replay bulk", "report late", "worker", "simulate"):
        assert f"### `dvc-hub {command}`" in text
    assert "`--record`" in text


def test_every_marker_in_the_pages_has_a_generator() -> None:
    pages = sorted(DOCS.rglob("*.md"))
    rendered = {page.name: docgen.render(page.read_text(encoding="utf-8"), SECTIONS) for page in pages}
    assert not [name for name, text in rendered.items() if re.search(r"^\s*<!-- generated:", text, re.M)]
    assert "`mapping_missing`" in rendered["runbook.md"]
