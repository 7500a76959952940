"""The integration log's error classes are one table: every error class agrees with it, and a class that does not
cannot be defined."""

from __future__ import annotations

import pytest

import connectors.errors
import foundation.topology
import hub.errors
import hub.logchain
import hub.store.db
import mappings.errors
import systems.errors
from foundation.errors import ERROR_CLASSES, Action, HubError, PermanentError, RetryableError, error_classes

# Imported so that every HubError subclass of the product is defined when the table is compared with them.
MODULES = (
    foundation.topology,
    connectors.errors,
    mappings.errors,
    systems.errors,
    hub.errors,
    hub.store.db,
    hub.logchain,
)


def _defined() -> dict[str, set[Action]]:
    found: dict[str, set[Action]] = {}
    stack: list[type[HubError]] = [HubError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        found.setdefault(cls.error_class, set()).add(cls.action)
    return found


def test_the_table_names_every_error_class_of_the_project_and_nothing_else() -> None:
    assert _defined() == {name: {action} for name, action in ERROR_CLASSES.items()}


def test_the_names_that_park_are_read_from_the_table() -> None:
    assert error_classes(Action.PARK) == [
        "answer_too_large",
        "authentication_failed",
        "catalogue_record_invalid",
        "configuration_error",
        "feed_entry_unreadable",
        "forbidden_xml",
        "hub_error",
        "log_archive_cut",
        "log_archive_missing",
        "log_day_missing",
        "log_day_not_sealed",
        "log_row_edited",
        "log_row_inserted",
        "log_rows_deleted",
        "log_rows_truncated",
        "log_seal_forged",
        "log_tampered",
        "mapping_missing",
        "permanent",
        "redirect_refused",
        "remote_rejected",
        "unknown_unit",
        "unreadable_answer",
        "validation_failed",
    ]
    assert "remote_unavailable" in error_classes(Action.RETRY) and error_classes(Action.HOLD) == ["delivery_paused"]


def test_an_error_class_missing_from_the_table_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="'portal_on_fire'"):

        class PortalOnFire(RetryableError):
            error_class = "portal_on_fire"


def test_an_error_class_with_another_action_than_the_tables_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="'remote_timeout' with action 'park'"):

        class TimeoutThatParks(PermanentError):
            error_class = "remote_timeout"


def test_a_stale_replica_is_tried_again_never_parked() -> None:
    assert ERROR_CLASSES["stale_replica"] is Action.RETRY and "stale_replica" not in error_classes(Action.PARK)
