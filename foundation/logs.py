"""Structured logging with structlog: readable console lines in development, JSON lines in production.

Context such as ``dossier_code``, ``message_id`` and ``unit`` is bound with :func:`bind` (contextvars), so every
line logged while a message is processed carries it without being passed around. Every line, structlog's and the
standard library's, passes :func:`redact` last: the one redaction of :mod:`foundation.redaction`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Final, Literal

import structlog

from foundation.redaction import mask_data, redact_data

bind = structlog.contextvars.bind_contextvars
unbind = structlog.contextvars.unbind_contextvars
bound = structlog.contextvars.bound_contextvars
clear = structlog.contextvars.clear_contextvars

# structlog's own entries (an exception to render, the standard library's record): not data anyone passed.
_STRUCTLOG_KEYS: Final = frozenset({"exc_info", "stack_info", "_record", "_from_structlog"})


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never let a credential or a personal value reach a log line, whoever passed it: credential keys removed and
    personal keys masked at any depth (:func:`~foundation.redaction.redact_data`), and free text masked
    (:func:`~foundation.redaction.mask_text`: an echoed ``Bearer`` token, a phone or citizen ID number)."""
    for key, value in redact_data({k: v for k, v in event.items() if k not in _STRUCTLOG_KEYS}).items():
        event[key] = mask_data(value)
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted. A stream fixed at configuration outlives a
    swapped one (a test runner's capture): worker threads still running then fail on a closed file at every line."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:  # StreamHandler's constructor sets it; the property decides
        pass


def configure(level: str = "INFO", fmt: Literal["console", "json"] = "console") -> None:
    """Configure structlog and the standard library's logging to write one format to stderr."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        shared.append(structlog.processors.format_exc_info)  # before redact: a rendered traceback is text to mask
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        colors = sys.stderr.isatty()
        # Rich tracebacks show every frame's local variables by default: a record's personal values among them.
        tracebacks = structlog.dev.RichTracebackFormatter(
            show_locals=False, color_system="truecolor" if colors else None
        )
        renderer = structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=tracebacks)
    shared.append(redact)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger fixed at its first use would ignore a later configuration (a test capturing logs).
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins at INFO on every migration run: noise for an administrator.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
