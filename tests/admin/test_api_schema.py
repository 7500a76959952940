"""Schemathesis against the console's OpenAPI description: whatever it sends, signed in as an operator, the API
never answers with a server error.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from console.app import Console, create_app
from hub.store.db import Database
from tests.admin import seed
from tests.admin.conftest import Live

# The description does not depend on the data, so it is read from an app over an empty in-memory database.
schema = schemathesis.openapi.from_dict(create_app(Console(db=Database("sqlite://"))).openapi())


@pytest.fixture
def bearer(live: Live) -> str:
    # argon2 verification is slow on purpose; on a loaded CI machine it needs more than httpx's 5 s default
    response = httpx.post(
        f"{live.url}/api/v1/session", json={"username": "operator", "password": seed.PASSWORD}, timeout=60
    )
    token: str = response.json()["token"]
    return token


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_with_a_server_error(case: Any, live: Live, bearer: str) -> None:
    case.call_and_validate(
        base_url=live.url, headers={"Authorization": f"Bearer {bearer}"}, checks=[not_a_server_error]
    )
