"""A bounded schemathesis run against the gateway's own /openapi.json, in-process over the Cluster fake:
no 5xx, and every answer (status code, content type, body) matches what the schema documents.

Not checked: that schema-violating requests are refused (unknown fields and query parameters are ignored,
as the original API does), and that every schema-valid request is accepted (the schema documents the
original API's shapes; what a ScheduledJob may hold, such as cron syntax, is the API server's to decide,
with its message, a documented 422; delete_job's "job_id or delete_all" is a documented 400).
"""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from cronflow.gateway.app import create_app
from cronflow.gateway.settings import GatewaySettings
from tests.support.fake_cluster import FakeApi

api = FakeApi()
api.add_user("alice-token", "alice", "default")
app = create_app(GatewaySettings(flow_endpoint="https://flows.example.com/run", spool_claim="inbox"), api.connect)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_schema(case: Case[Any]) -> None:
    case.call_and_validate(headers={"Authorization": "Bearer alice-token"},
                           excluded_checks=[schemathesis.checks.negative_data_rejection,
                                            schemathesis.checks.positive_data_acceptance])
