"""The request a run makes: only fields that are set, snake_case settings, no body for GET, bearer token."""

from __future__ import annotations

import json

import pytest

from cronflow_job.config import ConfigError, Flow, JobConfig, JsonValue
from cronflow_job.request import display_url, prepare_call, request_body, snake_case, snake_case_keys


def config(token: str | None = None, input_file: str | None = None, **flow: object) -> JobConfig:
    return JobConfig(
        flow=Flow(endpoint="https://flows.example.com/run", **flow),  # type: ignore[arg-type]
        auth_token=token,
        input_file=input_file,
    )


def test_post_with_nothing_set_sends_an_empty_json_object() -> None:
    call = prepare_call(config())

    assert call.method == "POST"
    assert call.url == "https://flows.example.com/run"
    assert json.loads(call.body or b"") == {}
    assert call.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.headers
    assert call.verify_tls is True
    assert call.timeout_seconds == 60


def test_body_holds_exactly_the_fields_that_are_set() -> None:
    call = prepare_call(
        config(
            input_file="invoices/a.pdf",
            method="PUT",
            binary_path="admin/flow.bin",
            input_dir="admin/input",
            settings={"tags": ["t1"], "notificationEmails": "ops@example.com"},
        )
    )

    assert call.method == "PUT"
    assert json.loads(call.body or b"") == {
        "binary_path": "admin/flow.bin",
        "input_dir": "admin/input",
        "input_file": "invoices/a.pdf",
        "settings": {"tags": ["t1"], "notification_emails": "ops@example.com"},
    }


def test_only_input_dir_set() -> None:
    assert request_body(config(input_dir="in")) == {"input_dir": "in"}


def test_empty_settings_object_is_sent() -> None:
    assert request_body(config(settings={})) == {"settings": {}}


def test_get_sends_no_body_and_no_content_type() -> None:
    call = prepare_call(config(method="GET", binary_path="x", settings={"a": 1}))

    assert call.method == "GET"
    assert call.body is None
    assert "Content-Type" not in call.headers


def test_bearer_header_only_when_a_token_is_set() -> None:
    assert prepare_call(config(token="abc.def")).headers["Authorization"] == "Bearer abc.def"
    assert "Authorization" not in prepare_call(config(token=None)).headers


def test_tls_verification_and_timeout_come_from_the_flow() -> None:
    call = prepare_call(config(verify_ssl_certificate=False, timeout_seconds=3))

    assert call.verify_tls is False
    assert call.timeout_seconds == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("runtimeConfig", "runtime_config"),
        ("notificationEmails", "notification_emails"),
        ("webhookConfig", "webhook_config"),
        ("parseHTTPResponse", "parse_http_response"),
        ("userID", "user_id"),
        ("v2Api", "v2_api"),
        ("tags", "tags"),
        ("already_snake", "already_snake"),
        ("X-Team", "X-Team"),
        ("Content-Type", "Content-Type"),
        ("URL", "URL"),
        ("with.dot", "with.dot"),
    ],
)
def test_snake_case_converts_camel_case_identifiers_only(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_settings_keys_are_converted_at_any_depth_including_lists() -> None:
    settings: JsonValue = {
        "runtimeConfig": {"maxPages": 3, "nestedLevel": {"deepKey": [{"listItemKey": True}, "plainString"]}},
        "webhookConfig": {"url": "https://h/x", "headers": {"X-Team": "a"}},
        "tags": ["tagOne"],
    }

    assert snake_case_keys(settings) == {
        "runtime_config": {
            "max_pages": 3,
            "nested_level": {"deep_key": [{"list_item_key": True}, "plainString"]},
        },
        "webhook_config": {"url": "https://h/x", "headers": {"X-Team": "a"}},
        "tags": ["tagOne"],
    }


def test_settings_keys_that_collide_after_conversion_are_refused() -> None:
    with pytest.raises(ConfigError, match="'fooBar' and 'foo_bar' both become 'foo_bar'"):
        snake_case_keys({"fooBar": 1, "foo_bar": 2})


def test_display_url_hides_credentials() -> None:
    assert display_url("https://user:pw@h.example:8443/p?q=1") == "https://h.example:8443/p?q=1"
    assert display_url("https://h.example/p") == "https://h.example/p"
