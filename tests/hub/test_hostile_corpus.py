"""The hostile-record corpus (tests/fixtures/hostile/corpus.yaml) through the whole pipeline, all at once.

Every record ends synced (and delivered) or parked after exactly one attempt with a named error class; none is
retried, none is parked as "unexpected", and the integration log (messages and attempts) holds no traceback text.
JSON records come from the fake source; SOAP answers go over the wire (``responses``) to the real SOAP connector.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import yaml
from sqlalchemy import select

from connectors.base import ChangeRef
from connectors.http import Endpoint, Timeouts
from connectors.soap import forget_wsdl_documents
from hub.store.db import Database
from hub.store.models import Attempt, Message, MessageState
from hub.sync import request_poll
from mappings.vendors import profile
from migrations import upgrade
from systems.fake.connector import FakeConnector
from systems.motcua.connector import SoapConnector
from tests.connectors.conftest import CONTRACT_WSDL, CREDS
from tests.hub.conftest import Hub, running_hub
from tests.hub.factories import COMMUNE

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"
ORDINARY = Path(__file__).resolve().parents[1] / "fixtures" / "mappings" / "ordinary.xml"
SOAP_URL = "http://motcua.hostile.test/ws"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    expect: str
    names: tuple[str, ...]
    record: dict[str, Any] | None = None  # JSON cases
    body: bytes | None = None  # SOAP cases
    status: int = 200


def _steps(path: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in path.split(".")]


def _set(record: Any, path: str, value: Any) -> None:
    *parents, last = _steps(path)
    for step in parents:
        record = record[step]
    record[last] = value


def _drop(record: Any, path: str) -> None:
    *parents, last = _steps(path)
    for step in parents:
        record = record[step]
    del record[last]


def _get(record: Any, path: str) -> Any:
    for step in _steps(path):
        record = record[step]
    return record


def _value(raw: Any) -> Any:
    if isinstance(raw, str) and (match := re.fullmatch(r"\{(long|digits):(\d+)\}", raw)):
        size = int(match[2])
        return "1" * size if match[1] == "digits" else ("Nội dung rất dài " * size)[:size]
    return raw


def load_corpus() -> list[Case]:
    manifest = yaml.safe_load((HOSTILE / "corpus.yaml").read_text(encoding="utf-8"))
    base = json.loads((HOSTILE / "base.json").read_text(encoding="utf-8"))
    cases: list[Case] = []
    for n, spec in enumerate(manifest["json"], start=1):
        code = f"000.01.17.H47-240304-{n:04d}"
        record = copy.deepcopy(base)
        record["MaHoSo"] = code
        for path, value in (spec.get("set") or {}).items():
            _set(record, path, _value(value))
        for path in spec.get("drop") or ():
            _drop(record, path)
        for path in spec.get("nfd") or ():
            _set(record, path, unicodedata.normalize("NFD", _get(record, path)))
        cases.append(Case(spec["name"], code, spec["expect"], tuple(spec.get("names", ())), record=record))
    template = ORDINARY.read_text(encoding="utf-8")
    for n, spec in enumerate(manifest["soap"], start=1):
        code = f"000.01.17.H47-231027-{n:04d}"
        if "file" in spec:
            text = (HOSTILE / spec["file"]).read_text(encoding="utf-8")
        else:
            text = template
            for old, new in spec.get("replace") or ():
                assert old in text, f"{spec['name']}: {old!r} is not in ordinary.xml"
                text = text.replace(old, new)
        text = text.replace("{code}", code).replace("000.01.17.H47-231027-0012", code)
        body = text.encode("utf-8")
        if "truncate" in spec:
            body = body[: int(len(body) * spec["truncate"])]
        cases.append(
            Case(
                spec["name"],
                code,
                spec["expect"],
                tuple(spec.get("names", ())),
                body=body,
                status=spec.get("status", 200),
            )
        )
    return cases


CORPUS = load_corpus()


class CorpusSource:
    """The fake source's change feed; each SOAP case's dossier fetched over the wire by the real connector."""

    def __init__(self, fake: FakeConnector, soap: SoapConnector, soap_codes: set[str]) -> None:
        self.fake = fake
        self.soap = soap
        self.soap_codes = soap_codes

    def get_dossier(self, unit_code: str, dossier_code: str, *, seen: ChangeRef | None = None) -> Any:
        if dossier_code in self.soap_codes:
            return self.soap.get_dossier(unit_code, dossier_code, seen=seen)
        return self.fake.get_dossier(unit_code, dossier_code, seen=seen)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)


def _answer(bodies: dict[str, Case]) -> Any:
    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        sent = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        code = re.search(rb"<(?:\w+:)?MaHoSo>([^<]+)<", sent)
        assert code is not None, sent[:300]
        case = bodies[code[1].decode()]
        assert case.body is not None
        return case.status, {"Content-Type": "text/xml; charset=utf-8"}, case.body

    return reply


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[list[Message], list[Attempt]]]]:
    """Run the whole corpus once: every case's messages and attempts, by dossier code."""
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hub.sqlite3'}"
    upgrade(url)
    db = Database(url)
    forget_wsdl_documents()
    soap_cases = {c.code: c for c in CORPUS if c.body is not None}
    endpoint = Endpoint("motcua-quangnam", requests.Session(), base_url=SOAP_URL, timeouts=Timeouts(1.0, 5.0))
    soap = SoapConnector(endpoint, profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        wire.add_callback(responses.POST, SOAP_URL, callback=_answer(soap_cases))
        with running_hub(db, source_over=lambda fake: CorpusSource(fake, soap, set(soap_cases))) as hub:
            for case in CORPUS:
                hub.source.put(COMMUNE, case.record or {"MaHoSo": case.code})
            request_poll(hub.db, "motcua-quangnam", COMMUNE, reason="test")
            hub.drain(timeout=60)
            yield _by_code(hub)
    db.dispose()


def _by_code(hub: Hub) -> dict[str, tuple[list[Message], list[Attempt]]]:
    with hub.db.session() as session:
        messages = list(session.scalars(select(Message).where(Message.kind != "poll")))
        attempts = list(session.scalars(select(Attempt)))
    out: dict[str, tuple[list[Message], list[Attempt]]] = {}
    for message in messages:
        mine = [a for a in attempts if a.message_id == message.id]
        out.setdefault(message.dossier_code or "", ([], []))
        out[message.dossier_code or ""][0].append(message)
        out[message.dossier_code or ""][1].extend(mine)
    return out


def test_the_corpus_has_thirty_hostile_records_across_soap_and_json() -> None:
    assert len(CORPUS) >= 30
    assert sum(c.body is not None for c in CORPUS) >= 10 and sum(c.record is not None for c in CORPUS) >= 10


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: c.name)
def test_each_hostile_record_ends_synced_or_parked_after_one_attempt(
    case: Case, outcome: dict[str, tuple[list[Message], list[Attempt]]]
) -> None:
    messages, attempts = outcome[case.code]
    states = {(m.kind, m.state) for m in messages}
    if case.expect == "synced":
        assert states == {("sync", "succeeded"), ("deliver", "succeeded")}, [
            (m.kind, m.state, m.error_class, m.error_message) for m in messages
        ]
    else:
        [parked] = [m for m in messages if m.state == MessageState.PARKED.value]
        assert parked.error_class == case.expect, (parked.error_class, parked.error_message)
        assert parked.attempts == 1
        assert [a.number for a in attempts if a.message_id == parked.id] == [1]
        assert case.code in (parked.error_message or "")
        for text in case.names:
            assert text in (parked.error_message or "") + (parked.remote_message or ""), parked.error_message
    assert all(m.error_class != "unexpected" for m in messages)
    for text in [*(m.error_message or "" for m in messages), *(m.remote_message or "" for m in messages)]:
        assert not TRACEBACK.search(text or ""), text
    for attempt in attempts:
        blob = json.dumps([attempt.error_message, attempt.remote_message, attempt.response], ensure_ascii=False)
        assert not TRACEBACK.search(blob), blob[:500]
