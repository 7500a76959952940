"""The hub's error tree, organised by what the caller must do with the message that raised it.

    HubError
    ├── RetryableError            retry later with backoff; the remote side may recover
    │   ├── RemoteUnavailable     connection refused/reset, 5xx, circuit open
    │   ├── RemoteTimeout         no answer within the configured bound
    │   ├── RateLimited           429; ``retry_after`` seconds when the remote said so
    │   └── DeliveryPaused        an operator paused the target; hold the message
    ├── PermanentError            park for a human: retrying the same input cannot succeed
    │   ├── ValidationFailed      our own checks refused a record (lists every problem)
    │   ├── RemoteRejected        the remote refused the record (HTTP 4xx, portal error_code, SOAP client fault)
    │   ├── MappingMissing        no national procedure code for a local one
    │   ├── AuthenticationFailed  credentials refused even after re-authenticating
    │   └── ConfigurationError    the topology or settings are wrong
    └── SkipMessage               nothing to do; record why and move on (e.g. an older version than stored)

Connectors translate foreign exceptions (requests, zeep, lxml) into this tree at one boundary each, with
``raise ... from exc``; nothing above the connectors catches a library's exception.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a record: where, what value, and why in Vietnamese and English."""

    path: str
    message_vi: str
    message_en: str
    value: str | None = None

    def __str__(self) -> str:
        shown = f" (giá trị: {self.value!r})" if self.value is not None else ""
        return f"{self.path}: {self.message_vi}{shown} / {self.message_en}"


class HubError(Exception):
    """Raised for every failure the hub knows how to handle; the subclass says how."""

    error_class: str = "hub_error"

    def __init__(self, message: str, *, dossier_code: str | None = None, target: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.dossier_code = dossier_code
        self.target = target

    def __str__(self) -> str:
        prefix = f"[{self.dossier_code}] " if self.dossier_code else ""
        return f"{prefix}{self.message}"


class RetryableError(HubError):
    """Raised when the same message may succeed later; the hub retries it with backoff."""

    error_class = "retryable"
    retry_after: float | None = None


class RemoteUnavailable(RetryableError):
    """Raised when the remote system cannot be reached or answers with a server error."""

    error_class = "remote_unavailable"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.status_code = status_code


class RemoteTimeout(RetryableError):
    """Raised when the remote system does not answer within the configured timeout."""

    error_class = "remote_timeout"


class RateLimited(RetryableError):
    """Raised when the remote system asks us to slow down (HTTP 429)."""

    error_class = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.retry_after = retry_after


class DeliveryPaused(RetryableError):
    """Raised when an operator has paused deliveries to a target; the message waits, it is not failed."""

    error_class = "delivery_paused"


class PermanentError(HubError):
    """Raised when retrying the same input cannot succeed; the message is parked for a human."""

    error_class = "permanent"


class ValidationFailed(PermanentError):
    """Raised when a record fails our checks; ``problems`` lists every one of them at once."""

    error_class = "validation_failed"

    def __init__(self, problems: list[Problem], *, dossier_code: str | None = None, target: str | None = None) -> None:
        lines = "; ".join(str(p) for p in problems)
        who = dossier_code or "hồ sơ không rõ mã"
        super().__init__(
            f"Hồ sơ {who} không hợp lệ ({len(problems)} lỗi): {lines}",
            dossier_code=dossier_code,
            target=target,
        )
        self.problems = problems


class RemoteRejected(PermanentError):
    """Raised when the remote system refuses a record; ``remote_message`` keeps its words verbatim."""

    error_class = "remote_rejected"

    def __init__(
        self,
        message: str,
        *,
        remote_message: str | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        fault_code: str | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.remote_message = remote_message
        self.status_code = status_code
        self.error_code = error_code
        self.fault_code = fault_code


class MappingMissing(PermanentError):
    """Raised when a local procedure code has no national procedure code (MaTTHC) mapped to it."""

    error_class = "mapping_missing"

    def __init__(self, local_procedure_code: str, *, dossier_code: str | None = None) -> None:
        super().__init__(
            f"Thủ tục {local_procedure_code!r} chưa được ánh xạ sang mã TTHC quốc gia "
            f"(no national procedure code for local code {local_procedure_code!r})",
            dossier_code=dossier_code,
        )
        self.local_procedure_code = local_procedure_code


class AuthenticationFailed(PermanentError):
    """Raised when the remote refuses our credentials even after a fresh login."""

    error_class = "authentication_failed"


class ConfigurationError(PermanentError):
    """Raised when settings or the topology make a message impossible to process."""

    error_class = "configuration_error"


class SkipMessage(HubError):
    """Raised when a message has nothing left to do; it is recorded as skipped with the reason."""

    error_class = "skipped"
