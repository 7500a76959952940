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
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class Action(StrEnum):
    """What the hub must do with a message whose work raised the error."""

    RETRY = "retry"  # try again later, with backoff
    PARK = "park"  # stop and wait for a human (fix, then replay)
    HOLD = "hold"  # wait without spending an attempt (an operator paused the target)
    SKIP = "skip"  # nothing to do; record why


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
    """The ``error_class`` of every :class:`HubError` subclass whose ``action`` is ``action`` (those defined by the
    modules imported so far), sorted: what the integration log's ``error_class`` column holds for such errors."""
    found: set[str] = set()
    stack: list[type[HubError]] = [HubError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.action is action:
            found.add(cls.error_class)
    return sorted(found)
