"""The ScheduledJob models: defaults, camelCase, and the same refusals as the API server."""

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from cronflow.api.models import InvalidSpec, ScheduledJobSpec, ScheduledJobStatus, parse_spec
from tests.unit.bad_manifests import BAD_MANIFESTS, VALID_MANIFEST

# The spec of the DESIGN example, as the API server returns it after defaulting.
FULL_SPEC: dict[str, Any] = {
    "schedule": "*/5 * * * *",
    "timeZone": "Europe/Amsterdam",
    "enabled": True,
    "trigger": "",
    "concurrencyPolicy": "Forbid",
    "startingDeadlineSeconds": 300,
    "jitterSeconds": 0,
    "historyLimit": 10,
    "pauseAfterFailures": 0,
    "resume": "",
    "backfill": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z"},
    "flow": {
        "endpoint": "https://flows.example.com/api/v1/flow/run_binary_async",
        "method": "POST",
        "query": {"dryRun": "false"},
        "headers": {"X-Team": "a"},
        "headersSecretRef": {"name": "flow-headers"},
        "binaryPath": "admin/repo/fs/Drive/files/flow/flow.ibflowbin",
        "inputDir": "admin/repo/fs/Drive/files/flow/input",
        "verifySslCertificate": True,
        "timeoutSeconds": 60,
        "authTokenSecretRef": {"name": "flow-token", "key": "token"},
        "settings": {
            "tags": ["tag1"],
            "runtimeConfig": {},
            "notificationEmails": "ops@example.com",
            "webhookConfig": {"url": "https://hooks.example.com/x", "headers": {"X-Team": "a"}},
        },
        "retry": {"attempts": 1, "backoffSeconds": 10, "maxBackoffSeconds": 300},
        "success": {"statusCodes": [200, 202], "when": "status == 'OK'"},
        "completion": {
            "jobId": "data.job_id",
            "statusUrl": "https://flows.example.com/api/v1/jobs/status?job_id={jobId}",
            "intervalSeconds": 10,
            "timeoutSeconds": 3600,
            "doneWhen": "state != 'RUNNING'",
            "successWhen": "state == 'COMPLETE'",
        },
    },
    "notifications": {
        "on": ["Failure"],
        "webhook": {
            "url": "https://hooks.example.com/y",
            "headers": {"X-Team": "a"},
            "headersSecretRef": {"name": "hook-headers"},
        },
        "emails": ["oncall@example.com"],
    },
    "automatic": {
        "enabled": False,
        "volume": {"persistentVolumeClaim": {"claimName": "inbox"}},
        "path": "input",
        "pattern": "*.pdf",
        "pollSeconds": 10,
        "maxParallel": 4,
    },
    "jobTemplate": {
        "resources": {"limits": {"memory": "128Mi"}},
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "serviceAccountName": "flows",
    },
}

# The API server prints its own words for these; the models use pydantic's.
OPENAPI_PHRASES = (
    "Unsupported value", "must be of type", "should be", "should have", "Too long", "Too many", "Required value")


def test_full_design_spec_parses_and_dumps_back_to_the_same_camel_case_document() -> None:
    spec = parse_spec(FULL_SPEC)
    assert spec.flow.auth_token_secret_ref is not None
    assert spec.flow.auth_token_secret_ref.key == "token"
    assert spec.flow.settings == FULL_SPEC["flow"]["settings"]
    assert spec.automatic is not None
    assert spec.automatic.volume == {"persistentVolumeClaim": {"claimName": "inbox"}}
    assert spec.model_dump(mode="json", by_alias=True, exclude_none=True) == FULL_SPEC


def test_minimal_spec_gets_the_documented_defaults() -> None:
    spec = parse_spec({"schedule": "@daily", "flow": {"endpoint": "http://flows:8080/run"}})
    assert (spec.time_zone, spec.enabled, spec.trigger) == ("Etc/UTC", True, "")
    assert (spec.concurrency_policy, spec.history_limit, spec.starting_deadline_seconds) == ("Forbid", 10, None)
    assert (spec.flow.method, spec.flow.verify_ssl_certificate, spec.flow.timeout_seconds) == ("POST", True, 60)
    assert spec.notifications is None and spec.automatic is None and spec.job_template is None
    flow = spec.flow
    unset = (flow.query, flow.headers, flow.headers_secret_ref, flow.json_body, flow.form, flow.retry, flow.success,
             flow.completion)
    assert unset == (None,) * 8


def test_retry_and_completion_get_their_documented_defaults() -> None:
    completion = {"jobId": "id", "statusUrl": "https://f/{jobId}", "doneWhen": "done", "successWhen": "ok"}
    flow = parse_spec({"schedule": "@daily", "flow": {"endpoint": "https://f", "retry": {}, "completion": completion}})
    assert flow.flow.retry is not None and flow.flow.completion is not None
    retry, follow = flow.flow.retry, flow.flow.completion
    assert (retry.attempts, retry.backoff_seconds, retry.max_backoff_seconds) == (1, 10, 300)
    assert (follow.interval_seconds, follow.timeout_seconds) == (10, 3600)


def test_json_body_is_a_json_object_read_and_written_as_json() -> None:
    for body in ({"any": {"shape": [1, None]}}, {}):
        spec = parse_spec({"schedule": "@daily", "flow": {"endpoint": "https://f", "json": body}})
        assert spec.flow.json_body == body
        assert spec.flow.model_dump(mode="json", by_alias=True, exclude_none=True)["json"] == body
    for other in ([1, "two"], "text", 0, False):
        with pytest.raises(InvalidSpec, match=r"spec\.flow\.json"):
            parse_spec({"schedule": "@daily", "flow": {"endpoint": "https://f", "json": other}})


def test_fields_are_read_by_camel_case_alias_and_by_python_name() -> None:
    by_alias = ScheduledJobSpec.model_validate(
        {"schedule": "@daily", "timeZone": "Asia/Tokyo", "flow": {"endpoint": "https://x", "timeoutSeconds": 5}}
    )
    by_name = ScheduledJobSpec.model_validate(
        {"schedule": "@daily", "time_zone": "Asia/Tokyo", "flow": {"endpoint": "https://x", "timeout_seconds": 5}}
    )
    assert by_alias == by_name
    assert by_alias.time_zone == "Asia/Tokyo" and by_alias.flow.timeout_seconds == 5


@pytest.mark.parametrize(
    ("case_id", "manifest", "expected"),
    [case for case in BAD_MANIFESTS if "spec" in case[1] and case[0] != "name-too-long"],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_manifests_the_api_server_refuses_are_refused_by_the_models(
    case_id: str, manifest: dict[str, Any], expected: str
) -> None:
    with pytest.raises(InvalidSpec) as refused:
        parse_spec(manifest["spec"])
    if not any(phrase in expected for phrase in OPENAPI_PHRASES):  # a CEL rule: the very same message
        assert expected in str(refused.value)


def test_bad_manifests_cover_the_required_cases_and_have_distinct_ids() -> None:
    ids = [case_id for case_id, _, _ in BAD_MANIFESTS]
    assert len(ids) == len(set(ids)) >= 18
    assert parse_spec(VALID_MANIFEST["spec"]).schedule == "*/5 * * * *"


def test_invalid_spec_names_each_field_with_its_path_on_its_own_line() -> None:
    raw = copy.deepcopy(FULL_SPEC)
    raw["flow"]["endpoint"] = "ftp://flows.example.com"
    raw["historyLimit"] = 0
    with pytest.raises(InvalidSpec) as refused:
        parse_spec(raw)
    lines = str(refused.value).splitlines()
    assert "spec.historyLimit: Input should be greater than or equal to 1" in lines
    assert any(line.startswith("spec.flow.endpoint: must be an http:// or https:// URL") for line in lines)


def test_well_formed_but_unknown_time_zone_is_refused_by_the_models_only() -> None:
    with pytest.raises(InvalidSpec, match=r"spec\.timeZone: unknown time zone 'Mars/Olympus_Mons'"):
        parse_spec({**FULL_SPEC, "timeZone": "Mars/Olympus_Mons"})


def test_backwards_cron_range_is_refused_with_the_range_named() -> None:
    with pytest.raises(InvalidSpec, match=r"spec\.schedule: schedule range '5-1' runs backwards"):
        parse_spec({**FULL_SPEC, "schedule": "5-1 * * * *"})


def test_schedule_and_time_zone_survive_validation_unchanged() -> None:
    spec = parse_spec({**FULL_SPEC, "schedule": "0 9 ? * mon-fri", "timeZone": "America/New_York"})
    assert (spec.schedule, spec.time_zone) == ("0 9 ? * mon-fri", "America/New_York")


def test_unknown_spec_fields_are_refused() -> None:
    with pytest.raises(InvalidSpec, match=r"spec\.schedul: Extra inputs are not permitted"):
        parse_spec({**FULL_SPEC, "schedul": "* * * * *"})


@pytest.mark.parametrize("name", ["X-Team", "x_custom!", "Content-Type", "a.b~c|d"])
def test_http_token_header_names_are_accepted(name: str) -> None:
    raw = copy.deepcopy(FULL_SPEC)
    raw["notifications"]["webhook"]["headers"] = {name: "v"}
    assert parse_spec(raw).notifications is not None


def _flow_spec(**flow: Any) -> dict[str, Any]:
    """A minimal spec with these flow fields (camelCase; `json_` stands for `json`)."""
    fields = {key.rstrip("_"): value for key, value in flow.items()}
    return {"schedule": "@daily", "flow": {"endpoint": "https://flows.example.com/run", **fields}}


_COMPLETION = {"jobId": "data.job_id", "statusUrl": "https://flows.example.com/jobs/{jobId}",
               "doneWhen": "state != 'RUNNING'", "successWhen": "state == 'COMPLETE'"}


@pytest.mark.parametrize(
    "raw",
    [
        _flow_spec(method="PATCH"),
        _flow_spec(method="DELETE"),
        _flow_spec(headers={"X-Host": "a", "Authorization-Extra": "b", "Set-Cookie": "c", "Hosts": "d"}),
        _flow_spec(query={"a": "", "b": "x y&z=1", "k" * 256: "v"}),
        _flow_spec(json_={"a": 1}, headers={"Content-Type": "application/json"}),
        _flow_spec(form={"fileField": "input_data"}),
        _flow_spec(form={"fields": {"email": "ops@example.com", "data[name]": "ü"}, "fileField": "input_data"}),
        _flow_spec(form={"fields": {}, "fileField": "binary_path"}, method="PUT"),
        _flow_spec(binaryPath="a.bin", inputDir="in", settings={"tags": []}),
        _flow_spec(retry={"attempts": 10, "backoffSeconds": 0, "maxBackoffSeconds": 0}),
        _flow_spec(retry={"backoffSeconds": 300}),
        _flow_spec(success={"statusCodes": [100, 599]}),
        _flow_spec(success={"when": "status == 'OK' && length(items) > `0`"}),
        _flow_spec(completion={**_COMPLETION, "intervalSeconds": 3600, "timeoutSeconds": 86400}),
        _flow_spec(completion={**_COMPLETION, "statusUrl": "https://{jobId}.jobs.example.com/"}),
    ],
    ids=lambda raw: ",".join(sorted(raw["flow"])[1:]) or "bare",
)
def test_flow_combinations_the_contract_allows_are_accepted(raw: dict[str, Any]) -> None:
    assert parse_spec(raw).flow.endpoint == "https://flows.example.com/run"


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (
            _flow_spec(success={"when": "status =="}),
            "spec.flow.success.when: not a JMESPath expression: Invalid jmespath expression: Incomplete expression",
        ),
        (
            _flow_spec(completion={**_COMPLETION, "jobId": "data."}),
            "spec.flow.completion.jobId: not a JMESPath expression: Expecting: ['quoted_identifier', "
            "'unquoted_identifier', 'lbracket', 'lbrace'], got: eof: Parse error at column 5, token \"\" (EOF)",
        ),
        (
            _flow_spec(completion={**_COMPLETION, "doneWhen": "`RUNNING"}),
            "spec.flow.completion.doneWhen: not a JMESPath expression: Bad jmespath expression: Unclosed ` delimiter",
        ),
        (
            _flow_spec(completion={**_COMPLETION, "successWhen": "@@"}),
            "spec.flow.completion.successWhen: not a JMESPath expression: Unexpected token: @: Parse error at "
            "column 1, token \"@\" (CURRENT)",
        ),
        (
            _flow_spec(completion={**_COMPLETION, "successWhen": "(" * 511 + "a" + ")" * 511}),
            "spec.flow.completion.successWhen: not a JMESPath expression: nested too deeply",
        ),
    ],
    ids=["when", "job-id", "done-when", "success-when", "nested-too-deeply"],
)
def test_a_bad_jmespath_expression_is_an_invalid_spec_naming_the_field_and_the_parse_error(
    raw: dict[str, Any], line: str
) -> None:
    with pytest.raises(InvalidSpec) as refused:
        parse_spec(raw)
    assert str(refused.value).splitlines() == [line]


def test_secret_names_are_every_referenced_secret_once() -> None:
    assert parse_spec(FULL_SPEC).secret_names() == ["flow-headers", "flow-token", "hook-headers"]
    shared = _flow_spec(headersSecretRef={"name": "flow"}, authTokenSecretRef={"name": "flow", "key": "token"})
    assert parse_spec(shared).secret_names() == ["flow"]
    assert parse_spec(_flow_spec()).secret_names() == []


def test_automatic_mode_with_a_volume_is_accepted() -> None:
    spec = parse_spec({**FULL_SPEC, "automatic": {"enabled": True, "volume": {"emptyDir": {}}}})
    assert spec.automatic is not None and spec.automatic.enabled


def test_status_parses_the_design_example_and_ignores_fields_it_does_not_know() -> None:
    raw = {
        "state": "ENABLED",
        "mode": "Schedule",
        "observedGeneration": 4,
        "cronJobName": "nightly-import",
        "lastScheduleTime": "2026-11-22T12:00:00Z",
        "lastRunTime": "2026-11-22T12:00:00Z",
        "lastSuccessfulTime": "2026-11-22T12:00:03Z",
        "lastFailureTime": "2026-11-21T12:00:02Z",
        "consecutiveFailures": 0,
        "nextScheduleTime": "2026-11-23T12:00:00Z",
        "nextScheduleTimes": ["2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z"],
        "lastTrigger": "2026-11-22T12:00:00Z",
        "lastResume": "",
        "backfill": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-08T00:00:00Z", "total": 168, "done": 12,
                     "failed": 0, "lastStarted": "2026-11-01T12:00:00Z"},
        "backfilled": [{"from": "2026-10-01T00:00:00Z", "to": "2026-10-02T00:00:00Z"}],
        "active": [{"name": "nightly-import-29012345", "startTime": "2026-11-22T12:00:00Z"}],
        "succeeded": 12,
        "failed": 1,
        "results": [
            {
                "job": "nightly-import-29012345",
                "trigger": "Schedule",
                "startTime": "2026-11-22T12:00:00Z",
                "finishedAt": "2026-11-22T12:00:03Z",
                "status": "OK",
                "attempts": 2,
                "httpResult": {
                    "status": 200,
                    "headers": [{"key": "Content-Type", "value": "application/json"}],
                    "response": "{}",
                    "truncated": False,
                },
                "completion": {
                    "jobId": "5f0c",
                    "httpResult": {
                        "status": 200, "headers": [], "response": '{"state": "COMPLETE"}', "truncated": False
                    },
                },
                "message": "",
            },
            {"job": "nightly-import-29012340", "trigger": "Schedule", "status": "ERROR", "message": "older image"},
            {"job": "nightly-import-backfill-202611010000-0a1b2c3d4e", "trigger": "Backfill",
             "scheduledTime": "2026-11-01T00:00:00Z", "status": "OK", "message": ""},
        ],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Reconciled",
                "message": "CronJob is up to date",
                "lastTransitionTime": "2026-11-22T12:00:00Z",
            }
        ],
        "automaticCounts": {"pending": 3},
    }
    status = ScheduledJobStatus.model_validate(raw)
    assert status.results[0].finished_at == datetime(2026, 11, 22, 12, 0, 3, tzinfo=UTC)
    assert status.results[0].attempts == 2 and status.results[1].attempts is None
    assert status.results[0].completion is not None and status.results[0].completion.job_id == "5f0c"
    dumped = status.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped["results"][0]["finishedAt"] == "2026-11-22T12:00:03Z"
    assert "automaticCounts" not in dumped
    assert dumped == {key: value for key, value in raw.items() if key != "automaticCounts"}


def test_status_refuses_a_result_with_an_unknown_outcome() -> None:
    with pytest.raises(ValidationError):
        ScheduledJobStatus.model_validate({"results": [{"job": "j", "trigger": "Schedule", "status": "MAYBE"}]})
