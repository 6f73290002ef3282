"""Schemathesis against the OpenAPI schema, in process: no input may cause a 5xx.

Bounded (few examples per operation, no shrinking deadline) so it finishes in seconds; it
runs as an admin API token, so every operation is reachable.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.services.auth import create_token
from models import Role
from tests.api.conftest import SECRET, Env


@pytest.fixture
def schema_env(env: Env):
    _, token = create_token(env.store, "schemathesis", Role.ADMIN, secret=SECRET, actor="test")
    return env, token


def test_no_input_causes_a_server_error(schema_env) -> None:
    env, token = schema_env
    schema = schemathesis.openapi.from_dict(env.app.openapi())
    schema.app = env.app  # calls go through ASGI, in process
    headers = {"Authorization": f"Bearer {token}"}
    checked: list[str] = []
    statuses: list[int] = []

    for operation in schema.get_all_operations():
        op = operation.ok()
        strategy = op.as_strategy()

        @settings(max_examples=8, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=strategy)
        def run(case) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        run()
        checked.append(f"{op.method.upper()} {op.path}")
    assert len(checked) >= 15, checked
    # The calls reached the app: some succeeded, some were refused with a 4xx.
    assert 200 in statuses and any(400 <= s < 500 for s in statuses)
    print(f"{len(statuses)} calls over {len(checked)} operations, 0 server errors")
