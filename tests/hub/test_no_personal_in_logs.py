"""No log line carries a personal value: a chaos-like run over dossiers whose personal fields are all distinctive.

The run goes through every outcome that logs: accepted and delivered, retried after transport failures, refused
by the portal, parked for invalid personal fields (phone, e-mail), parked after an unexpected exception, replayed.
Every structlog event and standard-library record (dramatiq's included, tracebacks rendered) is scanned for each
personal value, as written and decomposed (NFD).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from connectors.errors import RemoteRejected, RemoteTimeout, RemoteUnavailable
from hub import replay
from hub.store.models import MessageState
from hub.sync import request_poll
from tests.hub.conftest import personal_values_in, running_hub, scanned_logs
from tests.hub.factories import COMMUNE, dossier_code, record

APPLICANT = {
    "HoTen": "Zqxw Phạm Thị Riêng",
    "LoaiDoiTuong": 1,
    "SoGiayTo": "079199887766",
    "MaDoiTuong": "DVCQG-ZQXW-4711",
    "Email": "zqxw.rieng@bimat.vn",
    "SoDienThoai": "0987650001",
    "DiaChi": "Số 77 Ngõ Zqxw, Tam Kỳ",
}
INVALID = {**APPLICANT, "SoDienThoai": "Zqxw gọi sau 5 giờ", "Email": "zqxw-rieng@@bimat"}
VALUES = tuple(
    {
        form
        for value in [*APPLICANT.values(), *INVALID.values()]
        if isinstance(value, str) and len(value) > 3
        for form in (value, unicodedata.normalize("NFD", value))
    }
)


def _with(code: str, applicant: dict[str, Any]) -> dict[str, Any]:
    return {**record(code), "ChuHoSo": dict(applicant)}


def test_a_chaos_like_run_logs_no_personal_value(db: Any, caplog: pytest.LogCaptureFixture) -> None:
    good, invalid, refused, other = (dossier_code(COMMUNE, n) for n in (11, 12, 13, 14))
    with scanned_logs(caplog) as lines, running_hub(db) as hub:
        # Given transport failures, a refusal and a bug on the portal side, and a record with bad personal fields
        hub.portal.fail("lookup", RemoteUnavailable("503"), RemoteTimeout("slow"))
        # (two: a batch that carries it as a follower uses one up and leaves it to its own message, alone)
        refusals = [RemoteRejected("refused", remote_message="Sai mã TTHC")] * 2
        hub.portal.fail("push_dossiers", *refusals, dossier_code=refused)

        bugs = [RuntimeError("a bug in a connector")]  # the first push fails unexpectedly, once

        def bug(operation: str, unit: str, code: str | None) -> Any:
            if operation == "push_dossiers" and code is None and bugs:
                raise bugs.pop()
            return None

        hub.portal.failures = bug
        for code, applicant in ((good, APPLICANT), (invalid, INVALID), (refused, APPLICANT), (other, APPLICANT)):
            hub.source.put(COMMUNE, _with(code, applicant))
        # When the unit is polled, everything settles, and a parked message is replayed
        request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
        hub.drain(timeout=60)
        [parked] = hub.messages(dossier_code=invalid, kind="sync")
        assert parked.state == MessageState.PARKED.value and parked.error_class == "validation_failed"
        assert "SoDienThoai" in (parked.error_message or "") and "Email" in (parked.error_message or "")
        replay.replay_message(hub.db, parked.id, user="operator")
        hub.drain(timeout=60)
        assert hub.portal.lookup(COMMUNE, good) is not None and hub.portal.lookup(COMMUNE, other) is not None
        [rejected] = hub.messages(dossier_code=refused, kind="deliver")
        assert rejected.state == MessageState.PARKED.value
    # Then not one log line carries a personal value, in any form
    assert any("message_failed_unexpectedly" in line for line in lines), "the unexpected path did not log"
    assert any("message_parked" in line and "validation_failed" in line for line in lines)
    leaked = personal_values_in(lines, VALUES)
    assert not leaked, f"{len(leaked)} log lines carry personal values, e.g. {leaked[0][:400]}"
