"""Schemathesis against the console's OpenAPI description: whatever it sends, valid or not (positive, negative and
boundary data on every operation), signed in as an admin, the API never answers with a server error.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from sqlalchemy import select

from console.app import Console, create_app
from console.auth import open_session
from console.models import User
from hub.store.db import Database
from tests.servers import Live

# The description does not depend on the data, so it is read from an app over an empty in-memory database.
schema = schemathesis.openapi.from_dict(create_app(Console(db=Database("sqlite://"))).openapi())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture
def bearer(live: Live) -> str:
    # Opened in the database, not through POST /session: the fuzzed sign-ins throttle this address.
    with live.console.db.session() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        return open_session(session, admin)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_answers_with_a_server_error(case: Any, live: Live, bearer: str) -> None:
    case.call_and_validate(
        base_url=live.url, headers={"Authorization": f"Bearer {bearer}"}, checks=[not_a_server_error]
    )
