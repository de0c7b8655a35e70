"""The job runner reads its inputs from the environment and refuses bad ones with a clear message."""

from __future__ import annotations

import json
import re

import pytest

from cronflow_job.config import (
    DEFAULT_TERMINATION_LOG,
    ConfigError,
    Flow,
    Form,
    JobConfig,
    Retry,
    Success,
    load_config,
    termination_log_path,
)


def env(flow: object, **extra: str) -> dict[str, str]:
    return {"CRONFLOW_FLOW": json.dumps(flow), **extra}


def test_minimal_flow_takes_the_documented_defaults() -> None:
    config = load_config(env({"endpoint": "https://flows.example.com/run"}))

    assert config == JobConfig(flow=Flow(endpoint="https://flows.example.com/run"))
    assert config.flow.method == "POST"
    assert config.flow.verify_ssl_certificate is True
    assert config.flow.timeout_seconds == 60


def test_every_field_is_read_from_camel_case() -> None:
    flow = {
        "endpoint": "http://flows:8080/run",
        "method": "PUT",
        "binaryPath": "a/b.bin",
        "inputDir": "in",
        "verifySslCertificate": False,
        "timeoutSeconds": 2.5,
        "settings": {"runtimeConfig": {}},
        "authTokenSecretRef": {"name": "ignored", "key": "token"},
    }
    config = load_config(env(flow, CRONFLOW_AUTH_TOKEN="tok-123", CRONFLOW_INPUT_FILE="invoices/1.pdf"))

    assert config == JobConfig(
        flow=Flow(
            endpoint="http://flows:8080/run",
            method="PUT",
            binary_path="a/b.bin",
            input_dir="in",
            verify_ssl_certificate=False,
            timeout_seconds=2.5,
            settings={"runtimeConfig": {}},
        ),
        auth_token="tok-123",
        input_file="invoices/1.pdf",
    )


def test_empty_token_and_input_file_count_as_unset() -> None:
    config = load_config(env({"endpoint": "https://x"}, CRONFLOW_AUTH_TOKEN="", CRONFLOW_INPUT_FILE=""))

    assert config.auth_token is None
    assert config.input_file is None


def test_null_fields_take_defaults() -> None:
    config = load_config(env({"endpoint": "https://x", "method": None, "settings": None}))

    assert config.flow.method == "POST"
    assert config.flow.settings is None


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({}, "CRONFLOW_FLOW is not set"),
        ({"CRONFLOW_FLOW": "  "}, "CRONFLOW_FLOW is not set"),
        ({"CRONFLOW_FLOW": "{not json"}, "CRONFLOW_FLOW is not valid JSON"),
        (env(["https://x"]), "CRONFLOW_FLOW must be a JSON object, got list"),
        (env({}), "flow.endpoint is required"),
        (env({"endpoint": "ftp://x/y"}), "flow.endpoint must be an http or https URL, got scheme 'ftp'"),
        (env({"endpoint": "flows.example.com/run"}), "flow.endpoint must be an http or https URL"),
        (env({"endpoint": "https:///run"}), "flow.endpoint has no host"),
        (env({"endpoint": "https://x:port/run"}), "flow.endpoint is not a valid URL"),
        (env({"endpoint": 5}), "flow.endpoint must be a string, got a number"),
        (env({"endpoint": "https://x", "method": "TRACE"}), "flow.method must be one of GET, POST, PUT, PATCH, DELETE"),
        (env({"endpoint": "https://x", "method": "get"}), "flow.method must be one of GET, POST, PUT, PATCH, DELETE"),
        (env({"endpoint": "https://x", "timeoutSeconds": 0}), "flow.timeoutSeconds must be a positive"),
        (env({"endpoint": "https://x", "timeoutSeconds": "5"}), "flow.timeoutSeconds must be a number"),
        (env({"endpoint": "https://x", "timeoutSeconds": True}), "flow.timeoutSeconds must be a number"),
        (
            env({"endpoint": "https://x", "verifySslCertificate": "no"}),
            "flow.verifySslCertificate must be a boolean, got a string",
        ),
        (env({"endpoint": "https://x", "settings": []}), "flow.settings must be an object, got an array"),
        (env({"endpoint": "https://x", "binaryPath": {}}), "flow.binaryPath must be a string"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(environment: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        load_config(environment)


@pytest.mark.parametrize("token", ["sec ret-value", "PLANTED-value\n", "  ", "tab\tvalue", "nul\x00value"])
def test_bad_token_is_refused_by_its_reference_without_showing_it(token: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(env({"endpoint": "https://x"}, CRONFLOW_AUTH_TOKEN=token))

    assert token not in str(raised.value) and "PLANTED" not in str(raised.value)
    assert "spec.flow.authTokenSecretRef must hold printable ASCII" in str(raised.value)


def test_termination_log_defaults_to_the_kubernetes_path() -> None:
    assert termination_log_path({}) == DEFAULT_TERMINATION_LOG == "/dev/termination-log"
    assert termination_log_path({"CRONFLOW_TERMINATION_LOG": "/tmp/r"}) == "/tmp/r"


FULL = {
    "endpoint": "https://flows.example.com/run?a=1",
    "method": "PATCH",
    "query": {"dryRun": "false"},
    "headers": {"X-Team": "a"},
    "json": {"anyKey": [1, None]},
    "retry": {"attempts": 3, "backoffSeconds": 0.5, "maxBackoffSeconds": 4},
    "success": {"statusCodes": [200, 202], "when": "status == 'OK'"},
    "completion": {
        "jobId": "data.job_id",
        "statusUrl": "https://flows.example.com/status?job_id={jobId}",
        "intervalSeconds": 2,
        "timeoutSeconds": 30,
        "doneWhen": "state != 'RUNNING'",
        "successWhen": "state == 'COMPLETE'",
    },
}


def test_the_new_fields_are_read_from_camel_case() -> None:
    flow = load_config(env(FULL)).flow

    assert (flow.method, flow.query, flow.headers, flow.json) == (
        "PATCH", {"dryRun": "false"}, {"X-Team": "a"}, {"anyKey": [1, None]}
    )  # fmt: skip
    assert flow.retry == Retry(attempts=3, backoff_seconds=0.5, max_backoff_seconds=4)
    assert flow.success.status_codes == (200, 202)
    assert flow.success.when is not None and flow.success.when.holds({"status": "OK"})
    completion = flow.completion
    assert completion is not None
    assert (completion.status_url, completion.interval_seconds, completion.timeout_seconds) == (
        "https://flows.example.com/status?job_id={jobId}", 2, 30
    )  # fmt: skip
    assert completion.job_id.search({"data": {"job_id": "j-1"}}) == "j-1"
    assert completion.done_when.describe() == "flow.completion.doneWhen `state != 'RUNNING'`"


def test_new_fields_default_to_one_plain_try_and_any_2xx() -> None:
    flow = load_config(env({"endpoint": "https://x"})).flow

    assert (flow.query, flow.headers, flow.json, flow.form, flow.completion) == ({}, {}, None, None, None)
    assert flow.retry == Retry(attempts=1, backoff_seconds=10, max_backoff_seconds=300)
    assert flow.success == Success(status_codes=None, when=None)
    required = ("jobId", "statusUrl", "doneWhen", "successWhen")
    completion = {key: FULL["completion"][key] for key in required}  # type: ignore[index]
    parsed = load_config(env({"endpoint": "https://x", "completion": completion})).flow.completion
    assert parsed is not None and (parsed.interval_seconds, parsed.timeout_seconds) == (10, 3600)


def test_form_and_the_input_path() -> None:
    flow = {"endpoint": "https://x", "form": {"fields": {"email": "a@b.c"}, "fileField": "input_data"}}
    config = load_config(env(flow, CRONFLOW_INPUT_FILE="in/a.pdf", CRONFLOW_INPUT_PATH="/spool/in/a.pdf"))

    assert config.flow.form == Form(fields={"email": "a@b.c"}, file_field="input_data")
    assert (config.input_file, config.input_path) == ("in/a.pdf", "/spool/in/a.pdf")


def test_secret_headers_come_from_the_prefixed_variables() -> None:
    config = load_config(env({"endpoint": "https://x"}, **{"CRONFLOW_HEADER_X-Api-Key": "k", "OTHER": "o"}))

    assert config.secret_headers == {"X-Api-Key": "k"}


def with_flow(**fields: object) -> dict[str, str]:
    return env({"endpoint": "https://x", **fields})


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (with_flow(json={"a": 1}, form={"fileField": "f"}), "flow.json and flow.form cannot both be set"),
        (with_flow(form={"fields": {}}), "flow.form.fileField is required"),
        (with_flow(form={"fileField": "f", "fields": {"n": 1}}), "flow.form.fields.n must be a string"),
        (with_flow(query={"a": 1}), "flow.query.a must be a string"),
        (with_flow(query=[]), "flow.query must be an object, got an array"),
        (with_flow(headers={"Authorization": "Bearer x"}), "flow.headers: Authorization belongs in a Secret"),
        (with_flow(headers={"cookie": "c=1"}), "flow.headers: cookie belongs in a Secret"),
        (with_flow(headers={"Host": "h"}), "flow.headers: Host is set by the HTTP client"),
        (with_flow(headers={"Bad Name": "v"}), "flow.headers: 'Bad Name' is not a valid HTTP header name"),
        (with_flow(headers={"X-A": "1", "x-a": "2"}), "flow.headers: X-A and x-a are the same header"),
        (with_flow(headers={"X-A": "a\r\nX-B: b"}), "flow.headers: the value of X-A must be one line"),
        (with_flow(retry={"attempts": 0}), "flow.retry.attempts must be 1..10, got 0"),
        (with_flow(retry={"attempts": 11}), "flow.retry.attempts must be 1..10, got 11"),
        (with_flow(retry={"attempts": 2.5}), "flow.retry.attempts must be an integer, got a number"),
        (with_flow(retry={"backoffSeconds": -1}), "flow.retry.backoffSeconds must be zero or more"),
        (with_flow(success={"statusCodes": []}), "flow.success.statusCodes must list at least one"),
        (with_flow(success={"statusCodes": [200, 99]}), "flow.success.statusCodes must list at least one"),
        (with_flow(success={"when": "status =="}), "flow.success.when must be a JMESPath expression: "),
        (with_flow(success={"when": " "}), "flow.success.when must be a JMESPath expression: an empty string"),
        (
            with_flow(completion={"jobId": "id", "statusUrl": "https://x/{jobId}"}),
            "flow.completion needs flow.completion.doneWhen, flow.completion.successWhen",
        ),
        (
            with_flow(completion={**FULL["completion"], "statusUrl": "ftp://x/{jobId}"}),  # type: ignore[dict-item]
            "flow.completion.statusUrl must be an http or https URL",
        ),
        (
            with_flow(completion={**FULL["completion"], "intervalSeconds": 0}),  # type: ignore[dict-item]
            "flow.completion.intervalSeconds must be a positive number",
        ),
        (
            with_flow(form={"fileField": "f"}, headers={"Content-Type": "text/plain"}),
            "a Content-Type header cannot be given with flow.form",
        ),
        (
            {**with_flow(form={"fileField": "f"}), "CRONFLOW_INPUT_FILE": "in/a.pdf"},
            "CRONFLOW_INPUT_FILE is set but CRONFLOW_INPUT_PATH is not",
        ),
        ({**with_flow(), "CRONFLOW_INPUT_PATH": "in/a.pdf"}, "CRONFLOW_INPUT_PATH must be an absolute path"),
        ({**with_flow(), "CRONFLOW_HEADER_": "v"}, "spec.flow.headersSecretRef: '' is not a valid HTTP header name"),
        (
            {**with_flow(), "CRONFLOW_HEADER_X-Key": "a", "CRONFLOW_HEADER_x-key": "b"},
            "spec.flow.headersSecretRef: X-Key and x-key are the same header",
        ),
    ],
)
def test_bad_new_fields_are_refused_with_a_clear_message(environment: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        load_config(environment)


@pytest.mark.parametrize(
    "value", ["PLANTED\nX-Evil: 1", "PLANTED\r", "PLANTED\x00", " PLANTED", "PLANTED\x7f", "PLANTED€"]
)
def test_a_bad_secret_header_value_is_refused_by_name_without_showing_it(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(env({"endpoint": "https://x"}, **{"CRONFLOW_HEADER_X-Api-Key": value}))

    assert str(raised.value).startswith("spec.flow.headersSecretRef: the value of X-Api-Key must be one line")
    assert "PLANTED" not in str(raised.value) and str(raised.value).endswith("value not shown")


def test_a_token_and_an_authorization_key_in_the_header_secret_are_refused() -> None:
    environment = env(
        {"endpoint": "https://x"}, CRONFLOW_AUTH_TOKEN="tok-PLANTED", CRONFLOW_HEADER_authorization="Basic PLANTED"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(environment)

    assert str(raised.value).startswith(
        "spec.flow.authTokenSecretRef and the key authorization of spec.flow.headersSecretRef both set"
    )
    assert "PLANTED" not in str(raised.value)


def test_an_authorization_key_in_the_header_secret_alone_is_a_header() -> None:
    config = load_config(env({"endpoint": "https://x"}, CRONFLOW_HEADER_Authorization="Basic dXNlcjpwdw=="))

    assert config.secret_headers == {"Authorization": "Basic dXNlcjpwdw=="}
