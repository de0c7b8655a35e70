"""The job runner reads its inputs from the environment and refuses bad ones with a clear message."""

from __future__ import annotations

import json

import pytest

from cronflow_job.config import (
    DEFAULT_TERMINATION_LOG,
    ConfigError,
    Flow,
    JobConfig,
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
