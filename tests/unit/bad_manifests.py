"""ScheduledJob manifests that the API server must refuse, with a piece of the error it prints.

Data only: `BAD_MANIFESTS` is a list of `(id, manifest, expected_substring)`. The substrings are the
CEL rule messages of the CRD or the standard OpenAPI validation phrases of the API server; the unit
tests check the pydantic models refuse the same specs, an integration test checks the API server.
"""

import copy
from typing import Any

VALID_MANIFEST: dict[str, Any] = {
    "apiVersion": "cronflow.dev/v1alpha1",
    "kind": "ScheduledJob",
    "metadata": {"name": "nightly-import"},
    "spec": {
        "schedule": "*/5 * * * *",
        "timeZone": "Europe/Amsterdam",
        "flow": {
            "endpoint": "https://flows.example.com/api/v1/flow/run_binary_async",
            "authTokenSecretRef": {"name": "flow-token", "key": "token"},
        },
        "notifications": {
            "on": ["Failure"],
            "webhook": {"url": "https://hooks.example.com/x", "headers": {"X-Team": "a"}},
            "emails": ["oncall@example.com"],
        },
    },
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """VALID_MANIFEST with the dotted `path` set to `value`."""
    manifest = copy.deepcopy(VALID_MANIFEST)
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return manifest


def _without(path: str) -> dict[str, Any]:
    """VALID_MANIFEST without the dotted `path`."""
    manifest = copy.deepcopy(VALID_MANIFEST)
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node[key]
    del node[last]
    return manifest


def _flow(**fields: Any) -> dict[str, Any]:
    """VALID_MANIFEST with these fields added to its flow (camelCase keys; `json_` stands for `json`)."""
    flow = {**VALID_MANIFEST["spec"]["flow"], **{key.rstrip("_"): value for key, value in fields.items()}}
    return _with("spec.flow", flow)


_CRON = "schedule must be 5 cron fields"
_URL = "must be an http:// or https:// URL"
_RESERVED_HEADER = "flow.headers must not set Authorization, Cookie or Host"
_TWO_BODIES = "flow.json and flow.form are two bodies: set at most one"
_BODY_AND_FLOW_BODY = "make the flow body, which flow.json or flow.form replace"
_COMPLETION = {"jobId": "data.job_id", "statusUrl": "https://flows.example.com/jobs/{jobId}",
               "doneWhen": "state != 'RUNNING'", "successWhen": "state == 'COMPLETE'"}

BAD_MANIFESTS: list[tuple[str, dict[str, Any], str]] = [
    ("cron-six-fields-with-seconds", _with("spec.schedule", "0 */5 * * * *"), _CRON),
    ("cron-seven-fields-quartz", _with("spec.schedule", "0 0 12 * * ? 2026"), _CRON),
    ("cron-garbage", _with("spec.schedule", "every five minutes"), _CRON),
    ("cron-minute-out-of-range", _with("spec.schedule", "61 * * * *"),
     "schedule minute field '61' must be within 0-59"),
    ("cron-hour-out-of-range", _with("spec.schedule", "0 9-24 * * *"),
     "schedule hour field '9-24' must be within 0-23"),
    ("cron-day-of-week-7", _with("spec.schedule", "0 0 * * 7"),
     "schedule day-of-week field '7' must be within 0-6 or SUN-SAT"),
    ("cron-every-descriptor", _with("spec.schedule", "@every 1h"), _CRON),
    ("cron-tz-prefix", _with("spec.schedule", "TZ=UTC 0 * * * *"), _CRON),
    ("timezone-bad-pattern", _with("spec.timeZone", "Europe/Amster dam"), "must be an IANA time zone name"),
    ("timezone-path-traversal", _with("spec.timeZone", "../etc/passwd"), "must be an IANA time zone name"),
    ("timezone-local", _with("spec.timeZone", "Local"), "timeZone must name a zone, not Local"),
    ("endpoint-ftp", _with("spec.flow.endpoint", "ftp://flows.example.com/run"), _URL),
    ("endpoint-with-credentials", _with("spec.flow.endpoint", "https://user:pw@flows.example.com/"), _URL),
    (
        "endpoint-too-long",
        _with("spec.flow.endpoint", "https://flows.example.com/" + "a" * 2100),
        "Too long: may not be more than 2048",
    ),
    ("method-options", _with("spec.flow.method", "OPTIONS"), 'Unsupported value: "OPTIONS"'),
    ("flow-header-authorization", _flow(headers={"authorization": "Bearer x"}), _RESERVED_HEADER),
    ("flow-header-cookie-upper-case", _flow(headers={"COOKIE": "a=b"}), _RESERVED_HEADER),
    ("flow-header-host", _flow(headers={"X-Team": "a", "Host": "evil.example.com"}), _RESERVED_HEADER),
    ("flow-header-name-with-colon", _flow(headers={"X:Team": "a"}), "header names must be HTTP tokens"),
    ("flow-header-value-with-newline", _flow(headers={"X-Team": "a\nb"}), "header values must not contain line breaks"),
    (
        "flow-headers-secret-ref-bad-name",
        _flow(headersSecretRef={"name": "Flow_Headers"}),
        "must be a Kubernetes object name",
    ),
    ("query-name-empty", _flow(query={"": "x"}), "query parameter names must be 1 to 256 characters"),
    ("json-and-form", _flow(json_={"a": 1}, form={"fileField": "file"}), _TWO_BODIES),
    ("json-not-an-object", _flow(json_=[1, 2]), "spec.flow.json in body must be of type object"),
    ("json-with-binary-path", _flow(json_={"a": 1}, binaryPath="flows/a.bin"), _BODY_AND_FLOW_BODY),
    ("json-empty-with-input-dir", _flow(json_={}, inputDir="in"), _BODY_AND_FLOW_BODY),
    ("form-with-settings", _flow(form={"fileField": "file"}, settings={"tags": []}), _BODY_AND_FLOW_BODY),
    (
        "form-with-a-content-type-header",
        _flow(form={"fileField": "file"}, headers={"content-type": "application/json"}),
        "flow.headers must not set Content-Type with flow.form",
    ),
    ("form-without-file-field", _flow(form={"fields": {"a": "b"}}), "spec.flow.form.fileField: Required value"),
    (
        "form-file-field-also-a-field",
        _flow(form={"fields": {"input_data": "x"}, "fileField": "input_data"}),
        "form.fileField must not also be a key of form.fields",
    ),
    ("form-field-name-with-quote", _flow(form={"fields": {'a"b': "x"}, "fileField": "f"}), "form field names must"),
    ("form-file-field-with-newline", _flow(form={"fileField": "a\nb"}), "form field names must"),
    ("retry-attempts-0", _flow(retry={"attempts": 0}), "should be greater than or equal to 1"),
    ("retry-attempts-11", _flow(retry={"attempts": 11}), "should be less than or equal to 10"),
    (
        "retry-max-backoff-below-backoff",
        _flow(retry={"backoffSeconds": 60, "maxBackoffSeconds": 30}),
        "retry.maxBackoffSeconds must be at least retry.backoffSeconds",
    ),
    (
        "retry-backoff-above-the-default-max",
        _flow(retry={"backoffSeconds": 600}),
        "retry.maxBackoffSeconds must be at least retry.backoffSeconds",
    ),
    ("success-status-code-600", _flow(success={"statusCodes": [200, 600]}), "should be less than or equal to 599"),
    ("success-status-code-twice", _flow(success={"statusCodes": [200, 202, 200]}), "must not list a code twice"),
    ("success-status-codes-empty", _flow(success={"statusCodes": []}), "should have at least 1 items"),
    (
        "completion-without-job-id",
        _flow(completion={k: v for k, v in _COMPLETION.items() if k != "jobId"}),
        "spec.flow.completion.jobId: Required value",
    ),
    (
        "completion-status-url-without-job-id",
        _flow(completion={**_COMPLETION, "statusUrl": "https://flows.example.com/jobs/status"}),
        "completion.statusUrl must contain {jobId}",
    ),
    (
        "completion-timeout-86401",
        _flow(completion={**_COMPLETION, "timeoutSeconds": 86401}),
        "should be less than or equal to 86400",
    ),
    ("history-limit-0", _with("spec.historyLimit", 0), "should be greater than or equal to 1"),
    ("history-limit-51", _with("spec.historyLimit", 51), "should be less than or equal to 50"),
    (
        "header-name-with-space",
        _with("spec.notifications.webhook.headers", {"X Team": "a"}),
        "header names must be HTTP tokens",
    ),
    (
        "header-value-with-newline",
        _with("spec.notifications.webhook.headers", {"X-Team": "a\r\nX-Evil: 1"}),
        "header values must not contain line breaks",
    ),
    ("concurrency-policy-bogus", _with("spec.concurrencyPolicy", "Sometimes"), 'Unsupported value: "Sometimes"'),
    (
        "starting-deadline-negative",
        _with("spec.startingDeadlineSeconds", -1),
        "should be greater than or equal to 0",
    ),
    ("timeout-0", _with("spec.flow.timeoutSeconds", 0), "should be greater than or equal to 1"),
    ("timeout-3601", _with("spec.flow.timeoutSeconds", 3601), "should be less than or equal to 3600"),
    ("missing-spec", _without("spec"), "spec: Required value"),
    ("missing-schedule", _without("spec.schedule"), "spec.schedule: Required value"),
    ("missing-flow", _without("spec.flow"), "spec.flow: Required value"),
    ("missing-endpoint", _without("spec.flow.endpoint"), "spec.flow.endpoint: Required value"),
    ("notifications-on-bogus", _with("spec.notifications.on", ["Always"]), 'Unsupported value: "Always"'),
    ("webhook-url-javascript", _with("spec.notifications.webhook.url", "javascript:alert(1)"), _URL),
    (
        "too-many-emails",
        _with("spec.notifications.emails", [f"user{i}@example.com" for i in range(21)]),
        "Too many: 21: must have at most 20 items",
    ),
    ("email-without-at", _with("spec.notifications.emails", ["oncall"]), "emails must be email addresses"),
    (
        "auth-secret-ref-missing-key",
        _with("spec.flow.authTokenSecretRef", {"name": "flow-token"}),
        "spec.flow.authTokenSecretRef.key: Required value",
    ),
    (
        "auth-secret-ref-bad-name",
        _with("spec.flow.authTokenSecretRef", {"name": "Flow_Token", "key": "token"}),
        "must be a Kubernetes object name",
    ),
    (
        "automatic-enabled-without-volume",
        _with("spec.automatic", {"enabled": True, "path": "in"}),
        "automatic.volume is required when automatic.enabled is true",
    ),
    (
        "automatic-path-escapes-volume",
        _with("spec.automatic", {"volume": {"emptyDir": {}}, "path": "in/../../etc"}),
        "automatic.path must be a relative path inside the volume",
    ),
    ("jitter-3601", _with("spec.jitterSeconds", 3601), "should be less than or equal to 3600"),
    ("pause-after-failures-negative", _with("spec.pauseAfterFailures", -1), "should be greater than or equal to 0"),
    ("resume-token-too-long", _with("spec.resume", "r" * 129), "Too long"),
    (
        "backfill-backwards",
        _with("spec.backfill", {"from": "2026-11-08T00:00:00Z", "to": "2026-11-01T00:00:00Z"}),
        "backfill.to must be later than backfill.from",
    ),
    (
        "backfill-empty-range",
        _with("spec.backfill", {"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T01:00:00+01:00"}),
        "backfill.to must be later than backfill.from",
    ),
    (
        "backfill-without-to",
        _with("spec.backfill", {"from": "2026-11-01T00:00:00Z"}),
        "spec.backfill.to: Required value",
    ),
    ("name-too-long", _with("metadata.name", "a" * 64), "metadata.name must be at most 63 characters"),
]
