"""The log processor hides what foundation.redaction hides: credentials under any key's case, at any depth, personal
values under their keys and in free text, for structlog's lines and the standard library's alike."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from foundation import logs
from foundation.redaction import REDACTED, REMOVED, declare_personal

TOKEN = "eyJhbGciOi.zq7-secret-token"


@pytest.fixture
def json_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """The hub's logging configured for production; yields a function returning the JSON lines written so far."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("INFO", "json")

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]

    try:
        yield lines
    finally:
        structlog.reset_defaults()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@pytest.mark.parametrize(
    ("passed", "expected"),
    [
        ({"access_token": TOKEN}, {"access_token": REMOVED}),
        ({"Authorization": f"Bearer {TOKEN}"}, {"Authorization": REMOVED}),
        ({"PASSWORD": "p@ss-w0rd"}, {"PASSWORD": REMOVED}),
        ({"headers": {"authorization": TOKEN, "Accept": "application/json"}},
         {"headers": {"authorization": REMOVED, "Accept": "application/json"}}),
        ({"exchanges": [{"request": {"Headers": {"Cookie": f"sid={TOKEN}"}}}]},
         {"exchanges": [{"request": {"Headers": {"Cookie": REMOVED}}}]}),
        ({"url": "https://dvcqg.example/api", "note": f"sent Authorization: Bearer {TOKEN}"},
         {"url": "https://dvcqg.example/api", "note": "sent Authorization: Bearer [removed]"}),
    ],
)  # fmt: skip
def test_the_processor_removes_credentials_whatever_their_case_and_depth(
    passed: dict[str, Any], expected: dict[str, Any]
) -> None:
    event = logs.redact(None, "info", {"event": "pushed", **passed})
    assert event == {"event": "pushed", **expected}
    assert TOKEN not in repr(event)


def test_the_processor_masks_personal_values_by_key_and_in_text() -> None:
    declare_personal({"HoTenZq"})
    passed = {"event": "refused: điện thoại 0905 123 456 sai", "record": {"HoTenZq": "Zq Lê Văn"}, "unit": "517"}
    event = logs.redact(None, "warning", passed)
    assert event == {"event": f"refused: điện thoại {REDACTED} sai", "record": {"HoTenZq": REDACTED}, "unit": "517"}


def test_the_processor_leaves_structlogs_own_entries_alone() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        info = (type(exc), exc, exc.__traceback__)
    event = logs.redact(None, "error", {"event": "failed", "exc_info": info})
    assert event["exc_info"] is info  # a tuple still, for the renderer


def test_structlog_lines_never_print_a_credential(json_lines: Any) -> None:
    logs.get_logger("test").info(
        "token refreshed", access_token=TOKEN, headers={"Authorization": f"Bearer {TOKEN}"}, target="dvcqg"
    )
    (line,) = json_lines()
    assert TOKEN not in json.dumps(line)
    assert line["access_token"] == REMOVED and line["headers"] == {"Authorization": REMOVED}
    assert line["target"] == "dvcqg" and line["event"] == "token refreshed"


def test_standard_library_lines_and_tracebacks_are_masked_too(json_lines: Any) -> None:
    # Given a library that logs through the standard library, and an exception whose text echoes a credential
    try:
        raise ValueError(f"401 for Authorization: Bearer {TOKEN}")
    except ValueError:
        logging.getLogger("urllib3").exception("request failed with Bearer %s", TOKEN)
    # Then neither the message nor the rendered traceback carries it
    (line,) = json_lines()
    assert TOKEN not in json.dumps(line)
    assert "ValueError" in line["exception"] and "Bearer [removed]" in line["exception"]


def test_capture_logs_sees_what_the_processor_leaves() -> None:
    with capture_logs(processors=[logs.redact]) as captured:
        structlog.get_logger().info("login", session=TOKEN, user="tram")
    assert captured == [{"event": "login", "session": REMOVED, "user": "tram", "log_level": "info"}]
