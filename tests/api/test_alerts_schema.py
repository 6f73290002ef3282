"""Schemathesis over the alert and silence operations, on a store that holds real alerts
(made by the alerting pass): no input causes a 5xx. ``test_schema.py`` covers every
operation with 8 examples; this one gives the alert routes more, with real alert ids and
versions among the generated values so the lifecycle code is reached, not only validation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.services.auth import create_token
from models import Alert, Role
from tests.api.conftest import SECRET
from tests.api.test_alerts import aenv

__all__ = ["aenv"]


def test_alert_routes_never_answer_5xx(aenv) -> None:
    env = aenv
    _, token = create_token(env.store, "schemathesis", Role.ADMIN, secret=SECRET, actor="test")
    schema = schemathesis.openapi.from_dict(env.app.openapi())
    schema.app = env.app
    headers = {"Authorization": f"Bearer {token}"}
    ids = [a.id for a in env.store.list_records(Alert)]
    statuses: list[int] = []
    checked: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        if not op.path.startswith(("/api/v1/alerts", "/api/v1/silences")):
            continue

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=op.as_strategy(), alert_id=st.sampled_from(ids), real=st.booleans())
        def run(case, alert_id: str, real: bool) -> None:
            if real and case.path_parameters and "alert_id" in case.path_parameters:
                case.path_parameters["alert_id"] = alert_id
                if isinstance(case.body, dict):
                    stored = env.store.get_record(Alert, alert_id)
                    case.body["version"] = stored.version if stored else 1
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        run()
        checked.append(f"{op.method.upper()} {op.path}")
    assert len(checked) == 11, checked
    assert 200 in statuses and 404 in statuses and 422 in statuses
    print(f"{len(statuses)} calls over {len(checked)} alert operations, 0 server errors")
