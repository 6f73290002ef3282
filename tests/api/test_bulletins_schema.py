"""Schemathesis on the bulletin and report routes, as an officer and as an analyst, with
existing bulletins and incidents in the store so generated ids sometimes hit: no input may
cause a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.services.auth import create_token
from models import Role
from tests.api.conftest import SECRET, Env
from tingfeng.services import bulletins as svc

PREFIXES = ("/api/v1/bulletins", "/api/v1/reports", "/api/v1/incidents/{incident_id}/response")


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ANALYST])
def test_bulletin_and_report_routes_never_answer_5xx(env: Env, role: Role) -> None:
    for kind in ("situation", "rebuttal"):
        svc.draft(env.store, env.config, "inc-a", now=env.clock(), by="liwei", kind=kind)
    _, token = create_token(env.store, "fuzz", role, secret=SECRET, actor="test")
    schema = schemathesis.openapi.from_dict(env.app.openapi())
    schema.app = env.app
    headers = {"Authorization": f"Bearer {token}"}
    checked: list[str] = []
    statuses: list[int] = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        if not op.path.startswith(PREFIXES):
            continue

        @settings(max_examples=12, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=op.as_strategy())
        def run(case) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        run()
        checked.append(f"{op.method.upper()} {op.path}")
    assert len(checked) == 13, checked
    assert 200 in statuses and any(400 <= s < 500 for s in statuses)
    print(f"{role.value}: {len(statuses)} calls over {len(checked)} operations, 0 server errors")
