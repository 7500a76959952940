"""Property: whatever a source sends, fetch + map + apply raise only the hub's named errors.

Valid records are mutated (any element replaced by any value, deleted, or the SOAP answer's bytes changed) and run
through the real SOAP connector (over ``responses``), the vendor mapping and the store's apply. A record may be
accepted or refused; it may never raise anything but a :class:`~foundation.errors.HubError` with a named class,
because anything else is retried as "unexpected" instead of being parked at once with its field named.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.http import Endpoint, Timeouts
from connectors.soap import forget_wsdl_documents
from foundation.errors import HubError
from foundation.settings import Settings
from foundation.topology import load
from hub import procedures
from hub.context import ConnectorPool, HubContext
from hub.store.db import Database
from hub.sync import apply
from mappings.vendors import profile
from migrations import upgrade
from systems.motcua import mapping as motcua
from systems.motcua.connector import SoapConnector
from tests.conftest import TOPOLOGIES, examples
from tests.connectors.conftest import CONTRACT_WSDL, CREDS
from tests.hub.factories import COMMUNE, T0

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE: dict[str, Any] = json.loads((FIXTURES / "hostile" / "base.json").read_text(encoding="utf-8"))
ORDINARY = (FIXTURES / "mappings" / "ordinary.xml").read_bytes()
SOAP_URL = "http://motcua.fuzz.test/ws"
CODE = "000.01.17.H47-231027-0012"  # ordinary.xml's dossier
NAMED = {
    "validation_failed",
    "mapping_missing",
    "configuration_error",
    "unreadable_answer",
    "forbidden_xml",
    "remote_rejected",
}


def _paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*prefix, i))
    return out


PATHS = _paths(BASE)

ODD_TEXT = [
    "01/01/0001",
    "0001-01-01T00:00:00+08:00",
    "9999-12-31T23:59:59",
    "31/12/9999 23:59:59",
    "99999999999999",
    "2024-02-30",
    "1e309",
    "\x00\x1b[2J",
    "Nguyễn",
    "<b>&amp;</b>",
    "x" * 5000,
    "",
    "   ",
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from(ODD_TEXT),
    st.datetimes(
        min_value=datetime.min,  # noqa: DTZ901 - hypothesis attaches the timezone
        max_value=datetime.max,  # noqa: DTZ901
        timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]),
    ),
    st.dates(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)
DELETE = object()
MUTATION = st.tuples(st.sampled_from(PATHS), st.one_of(st.just(DELETE), VALUES))


def _mutate(record: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    parent: Any = record
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return  # an earlier mutation replaced the container: nothing left to change here
    last = path[-1]
    if not isinstance(parent, dict | list):
        return
    if isinstance(parent, list) and not (isinstance(last, int) and last < len(parent)):
        return
    if isinstance(parent, dict) and (not isinstance(last, str) or (value is DELETE and last not in parent)):
        return
    if value is DELETE:
        del parent[last]  # type: ignore[arg-type]
    else:
        parent[last] = value  # type: ignore[index]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubContext]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'hub.sqlite3'}"
    upgrade(url)
    db = Database(url)
    settings_ = Settings(_env_file=None, database_url=url)
    topology = load(TOPOLOGIES / "quang-nam-2023.yaml")
    procedures.set_mapping(db, "NT-HT-001", "1.001193", field_code="HT", field_name="Hộ tịch", user="test")
    yield HubContext(
        settings=settings_,
        db=db,
        topology=topology,
        connectors=ConnectorPool(topology, settings_, prebuilt={}),
        procedures=procedures.DbProcedureLookup(db),
        clock=lambda: T0,
    )
    db.dispose()


@pytest.fixture(scope="module")
def soap() -> SoapConnector:
    forget_wsdl_documents()
    endpoint = Endpoint("motcua-quangnam", requests.Session(), base_url=SOAP_URL, timeouts=Timeouts(1.0, 5.0))
    return SoapConnector(endpoint, profile("default"), CREDS, wsdl=str(CONTRACT_WSDL))


def _map_and_apply(ctx: HubContext, raw: Any) -> None:
    """Map and apply one record; a named hub error is an accepted outcome, anything else fails the property."""
    try:
        dossier = motcua.to_canonical(raw, procedures=ctx.procedures)
        with ctx.db.session() as session:
            apply(ctx, session, dossier, system="motcua-quangnam", unit_code=COMMUNE, message_id=None)
    except HubError as exc:
        assert exc.error_class in NAMED, (exc.error_class, str(exc))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_mutated_json_records_raise_only_named_hub_errors(
    ctx: HubContext, mutations: list[tuple[tuple[str | int, ...], Any]]
) -> None:
    record = copy.deepcopy(BASE)
    for path, value in mutations:
        _mutate(record, path, value)
    _map_and_apply(ctx, record)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(ORDINARY) - 1), st.binary(max_size=6)), min_size=1, max_size=5
    ),
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=len(ORDINARY))),
)
def test_mutated_soap_answers_raise_only_named_hub_errors(
    ctx: HubContext, soap: SoapConnector, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    body = bytearray(ORDINARY)
    for at, data in edits:
        body[at : at + len(data)] = data
    answer = bytes(body[:cut] if cut is not None else body)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, SOAP_URL, body=answer, status=200, content_type="text/xml")
        try:
            raw = soap.get_dossier(COMMUNE, CODE)
        except HubError as exc:
            assert exc.error_class in NAMED, (exc.error_class, str(exc))
            return
    _map_and_apply(ctx, raw)
