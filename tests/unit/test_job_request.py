"""The requests a run makes: query, headers, the flow body (snake_case settings), json, form, status polls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cronflow_job.config import Completion, ConfigError, Flow, Form, JobConfig, JsonValue
from cronflow_job.expr import compile_expression
from cronflow_job.multipart import EMPTY_FILE_NAME, EMPTY_FILE_TYPE, open_form
from cronflow_job.request import (
    PreparedCall,
    display_url,
    prepare_call,
    request_body,
    snake_case,
    snake_case_keys,
    status_call,
)
from tests.support.flow_server import Part, parse_form


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


@pytest.mark.parametrize(
    ("endpoint", "query", "url"),
    [
        ("https://h/run", {}, "https://h/run"),
        ("https://h/run", {"dryRun": "false"}, "https://h/run?dryRun=false"),
        ("https://h/run?a=1", {"b": "x y&z"}, "https://h/run?a=1&b=x+y%26z"),
        ("https://h/run?a=1", {"a": "2"}, "https://h/run?a=1&a=2"),
    ],
)
def test_query_is_appended_to_the_endpoint_s_own(endpoint: str, query: dict[str, str], url: str) -> None:
    assert prepare_call(JobConfig(flow=Flow(endpoint=endpoint, query=query))).url == url


@pytest.mark.parametrize(
    ("method", "has_flow_body"), [("GET", False), ("DELETE", False), ("POST", True), ("PUT", True), ("PATCH", True)]
)
def test_methods_and_their_flow_body(method: str, has_flow_body: bool) -> None:
    call = prepare_call(config(method=method, binary_path="b"))

    assert call.method == method
    assert call.body == (b'{"binary_path":"b"}' if has_flow_body else None)
    assert ("Content-Type" in call.headers) is has_flow_body


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_json_is_the_body_as_written_for_any_method(method: str) -> None:
    call = prepare_call(config(input_file="in/a.pdf", method=method, binary_path="b", json={"runtimeConfig": [1]}))

    assert json.loads(call.body or b"") == {"runtimeConfig": [1]}
    assert call.headers["Content-Type"] == "application/json"


def test_headers_secret_ones_win_over_the_spec_s_and_the_token_sets_authorization() -> None:
    run = JobConfig(
        flow=Flow(
            endpoint="https://h/run",
            headers={"X-Team": "spec", "X-Only-Spec": "1", "User-Agent": "mine/2", "Content-Type": "text/x"},
        ),
        auth_token="tok",
        secret_headers={"x-team": "secret", "X-Api-Key": "k"},
    )

    assert prepare_call(run).headers == {
        "User-Agent": "mine/2",
        "Content-Type": "text/x",
        "X-Only-Spec": "1",
        "x-team": "secret",
        "X-Api-Key": "k",
        "Authorization": "Bearer tok",
    }


def form_parts(call: PreparedCall) -> list[Part]:
    assert call.form is not None and call.body is None
    with open_form(call.form) as stream:
        body = b"".join(iter(lambda: stream.read(7), b""))
        assert len(body) == len(stream)
    return parse_form(call.headers["Content-Type"], body)


def test_form_sends_the_fields_and_the_claimed_file(tmp_path: Path) -> None:
    data = b"%PDF\r\n--not-a-boundary\r\n\x00\xff" * 1000
    (tmp_path / "a b.pdf").write_bytes(data)
    form = Form(fields={"email": "ops@example.com", "submission_name": "nightly"}, file_field="input_data")
    run = JobConfig(
        flow=Flow(endpoint="https://h/run", form=form, binary_path="ignored"),
        input_file="a b.pdf",
        input_path=str(tmp_path / "a b.pdf"),
    )

    call = prepare_call(run)

    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert form_parts(call) == [
        Part("email", None, "text/plain", b"ops@example.com"),
        Part("submission_name", None, "text/plain", b"nightly"),
        Part("input_data", "a b.pdf", "application/pdf", data),
    ]


def test_form_without_an_input_file_sends_an_empty_file_part() -> None:
    call = prepare_call(config(method="PUT", form=Form(fields={}, file_field="input_data")))

    assert form_parts(call) == [Part("input_data", EMPTY_FILE_NAME, EMPTY_FILE_TYPE, b"")]


def test_an_unreadable_input_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.pdf")
    call = prepare_call(JobConfig(flow=Flow(endpoint="https://h", form=Form({}, "f")), input_path=missing))

    assert call.form is not None
    with pytest.raises(ConfigError, match=f"^cannot read the input file {missing}: No such file or directory$"):
        open_form(call.form).__enter__()


def test_a_status_poll_gets_the_encoded_id_and_the_run_s_headers_but_not_the_spec_query() -> None:
    completion = Completion(
        job_id=compile_expression("jobId", "id"),
        status_url="https://h/status?job_id={jobId}&v=2",
        done_when=compile_expression("doneWhen", "done"),
        success_when=compile_expression("successWhen", "ok"),
    )
    run = JobConfig(
        flow=Flow(endpoint="https://h/run", query={"q": "1"}, headers={"X-Team": "a"}, completion=completion),
        auth_token="tok",
        secret_headers={"X-Api-Key": "k"},
    )

    call = status_call(run, "a b/c?&")

    assert (call.method, call.body, call.form) == ("GET", None, None)
    assert call.url == "https://h/status?job_id=a%20b%2Fc%3F%26&v=2"
    assert call.headers == {
        "User-Agent": "cronflow-job/1", "X-Team": "a", "X-Api-Key": "k", "Authorization": "Bearer tok"
    }  # fmt: skip
