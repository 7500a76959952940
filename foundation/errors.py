"""The error base classes every folder raises from, each carrying what the caller must do as data.

    HubError                      ``action`` says what to do with the message that raised it
    ├── RetryableError            Action.RETRY: the remote side may recover; retry with backoff
    ├── PermanentError            Action.PARK: retrying the same input cannot succeed; park for a human
    │   └── ConfigurationError    the topology or settings make the work impossible
    └── (hub.errors)              Action.HOLD (a paused target) and Action.SKIP (nothing to do)

Each layer raises its own subclasses from its own ``errors`` module (``connectors.errors``: the remote's failures;
``mappings.errors``: records that cannot be mapped; ``hub.errors``: the pipeline's own), and the hub's retry policy
reads only :attr:`HubError.action` and :attr:`HubError.retry_after`. Connectors translate foreign exceptions
(requests, zeep, lxml) into this tree at one boundary each, with ``raise ... from exc``.

Every class's ``error_class`` (the name the integration log stores) and its action are also one table here,
:data:`ERROR_CLASSES`, which a class must agree with when it is defined: a query that asks which names mean "park"
(:func:`error_classes`) gets the same answer in every process, whatever modules it has imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Final


class Action(StrEnum):
    """What the hub must do with a message whose work raised the error."""

    RETRY = "retry"  # try again later, with backoff
    PARK = "park"  # stop and wait for a human (fix, then replay)
    HOLD = "hold"  # wait without spending an attempt (an operator paused the target)
    SKIP = "skip"  # nothing to do; record why


# error_class → action, for every HubError subclass of the project, by the module that defines it.
ERROR_CLASSES: Final[Mapping[str, Action]] = MappingProxyType(
    {
        # foundation.errors
        "hub_error": Action.PARK,
        "retryable": Action.RETRY,
        "permanent": Action.PARK,
        "configuration_error": Action.PARK,
        # foundation.topology
        "unknown_unit": Action.PARK,
        # connectors.errors
        "remote_unavailable": Action.RETRY,
        "remote_timeout": Action.RETRY,
        "rate_limited": Action.RETRY,
        "deadline_exceeded": Action.RETRY,
        "answer_too_large": Action.PARK,
        "remote_rejected": Action.PARK,
        "feed_entry_unreadable": Action.PARK,
        "redirect_refused": Action.PARK,
        "authentication_failed": Action.PARK,
        "unreadable_answer": Action.PARK,
        "forbidden_xml": Action.PARK,
        # mappings.errors
        "validation_failed": Action.PARK,
        "mapping_missing": Action.PARK,
        # systems.errors
        "catalogue_record_invalid": Action.PARK,
        # hub.errors and hub.store.db
        "delivery_paused": Action.HOLD,
        "skipped": Action.SKIP,
        "claimed_elsewhere": Action.RETRY,
        "stale_replica": Action.RETRY,
        "lease_lost": Action.SKIP,
        "database_unavailable": Action.RETRY,
        # hub.logchain: what `logs verify` names (reported, never a message's failure)
        "log_tampered": Action.PARK,
        "log_row_edited": Action.PARK,
        "log_row_inserted": Action.PARK,
        "log_rows_deleted": Action.PARK,
        "log_rows_truncated": Action.PARK,
        "log_seal_forged": Action.PARK,
        "log_day_missing": Action.PARK,
        "log_day_not_sealed": Action.PARK,
        "log_archive_missing": Action.PARK,
        "log_archive_cut": Action.PARK,
    }
)


# The error classes raised before anything reaches the remote: the hub's own configuration (an unmapped procedure,
# a unit without a system) or the record itself. They never count against a target's error rate, circuit or
# incidents: the target did nothing wrong, and an operator fixes them in the hub.
RAISED_BEFORE_SENDING: Final = frozenset(
    {"configuration_error", "unknown_unit", "mapping_missing", "validation_failed"}
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a record: where, what value, and why in Vietnamese and English."""

    path: str  # the source's own element path, as its administrators know it
    message_vi: str
    message_en: str
    value: str | None = None  # masked when the field is personal
    canonical: str | None = None  # the canonical model's field path, when it differs

    def __str__(self) -> str:
        shown = f" (giá trị: {self.value!r})" if self.value is not None else ""
        where = f"{self.path} [{self.canonical}]" if self.canonical and self.canonical != self.path else self.path
        return f"{where}: {self.message_vi}{shown} / {self.message_en}"


class HubError(Exception):
    """Raised for every failure the hub knows how to handle; ``action`` says how."""

    error_class: str = "hub_error"
    action: ClassVar[Action] = Action.PARK
    retry_after: float | None = None  # seconds the remote asked us to wait, when it said so
    # The remote's own words, verbatim. They may name the applicant, so they never go into the message (which
    # viewers and log lines show): only operators see them, in the integration log's remote_message.
    remote_message: str | None = None

    def __init__(
        self,
        message: str,
        *,
        dossier_code: str | None = None,
        target: str | None = None,
        remote_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.dossier_code = dossier_code
        self.target = target
        if remote_message is not None:
            self.remote_message = remote_message

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if ERROR_CLASSES.get(cls.error_class) is not cls.action:
            raise TypeError(
                f"{cls.__qualname__}: error_class {cls.error_class!r} with action {cls.action.value!r} is not in "
                "foundation.errors.ERROR_CLASSES"
            )

    def __str__(self) -> str:
        prefix = f"[{self.dossier_code}] " if self.dossier_code else ""
        return f"{prefix}{self.message}"


class RetryableError(HubError):
    """Raised when the same message may succeed later; the hub retries it with backoff."""

    error_class = "retryable"
    action = Action.RETRY


class PermanentError(HubError):
    """Raised when retrying the same input cannot succeed; the message is parked for a human."""

    error_class = "permanent"
    action = Action.PARK


class ConfigurationError(PermanentError):
    """Raised when settings or the topology make a message impossible to process."""

    error_class = "configuration_error"


def error_classes(action: Action) -> list[str]:
    """The ``error_class`` names whose errors the hub handles with ``action``, sorted: what the integration log's
    ``error_class`` column holds for such errors (from :data:`ERROR_CLASSES`, never from the classes imported)."""
    return sorted(name for name, handled in ERROR_CLASSES.items() if handled is action)
