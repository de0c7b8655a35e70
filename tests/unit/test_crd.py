"""The generated CRD: names, columns, a structural schema with bounded sizes, CEL rules, no drift."""

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cronflow.api.cel import cel_string
from cronflow.api.crd import crd, crd_yaml
from cronflow.api.models import ScheduledJobStatus
from cronflow.schedule import FIELD_REGEXES, FIELD_WORD, SCHEDULE_REGEX, SHAPE_REGEX, field_message

CRD_FILE = Path(__file__).resolve().parents[2] / "crds" / "scheduledjobs.cronflow.dev.yaml"
NOT_STRUCTURAL = ("$ref", "$defs", "anyOf", "oneOf", "allOf", "not", "title", "nullable", "const")


def version() -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd()["spec"]["versions"]
    assert len(versions) == 1
    return versions[0]


def root_schema() -> dict[str, Any]:
    schema: dict[str, Any] = version()["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}{{}}")


def rules(path: str) -> list[dict[str, str]]:
    validations: list[dict[str, str]] = dict(nodes(root_schema()))[path].get("x-kubernetes-validations", [])
    return validations


def test_crd_names_scope_and_version() -> None:
    document = crd()
    assert document["apiVersion"] == "apiextensions.k8s.io/v1"
    assert document["metadata"]["name"] == "scheduledjobs.cronflow.dev"
    spec = document["spec"]
    assert (spec["group"], spec["scope"]) == ("cronflow.dev", "Namespaced")
    assert spec["names"] == {
        "kind": "ScheduledJob",
        "listKind": "ScheduledJobList",
        "plural": "scheduledjobs",
        "singular": "scheduledjob",
        "shortNames": ["sj"],
        "categories": ["cronflow"],
    }
    assert (version()["name"], version()["served"], version()["storage"]) == ("v1alpha1", True, True)
    assert version()["subresources"] == {"status": {}}


def test_printer_columns() -> None:
    columns = [(c["name"].upper(), c["type"], c["jsonPath"]) for c in version()["additionalPrinterColumns"]]
    assert columns == [
        ("SCHEDULE", "string", ".spec.schedule"),
        ("STATE", "string", ".status.state"),
        ("READY", "string", '.status.conditions[?(@.type=="Ready")].status'),
        ("LAST RUN", "date", ".status.lastRunTime"),
        ("LAST STATUS", "string", ".status.results[0].status"),
        ("NEXT RUN", "string", ".status.nextScheduleTime"),
        ("AGE", "date", ".metadata.creationTimestamp"),
    ]


def test_every_status_column_shows_a_status_field() -> None:
    schema = dict(nodes(root_schema()))
    for column in version()["additionalPrinterColumns"]:
        # .status.conditions[?(@.type=="Ready")].status -> .status.conditions[].status, a path of nodes()
        path = re.sub(r"\[[^]]*\]", "[]", column["jsonPath"])
        if path.startswith(".status."):
            assert path in schema, f"column {column['name']} shows {column['jsonPath']}, not in the status schema"


def test_last_run_time_is_a_status_timestamp_next_to_last_schedule_time() -> None:
    properties = list(root_schema()["properties"]["status"]["properties"])
    assert properties.index("lastRunTime") == properties.index("lastScheduleTime") + 1
    node = dict(nodes(root_schema()))[".status.lastRunTime"]
    assert (node["type"], node["format"]) == ("string", "date-time")
    assert node["description"]
    status = ScheduledJobStatus.model_validate({"lastRunTime": "2026-11-22T12:05:00Z"})
    assert status.last_run_time == datetime(2026, 11, 22, 12, 5, tzinfo=UTC)
    assert status.model_dump(by_alias=True, mode="json", exclude_unset=True) == {"lastRunTime": "2026-11-22T12:05:00Z"}


def test_conditions_are_a_list_map_keyed_by_a_required_type() -> None:
    conditions = dict(nodes(root_schema()))[".status.conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    # The API server refuses a list-map whose keys are neither required nor defaulted.
    assert "type" in conditions["items"]["required"]
    assert "observedGeneration" in conditions["items"]["properties"]


def test_schema_is_structural() -> None:
    for path, node in nodes(root_schema()):
        # Every node has a type: CEL rules cannot see an untyped field (`undefined field` at CRD creation).
        assert "type" in node, f"{path} has no type"
        assert not set(NOT_STRUCTURAL) & set(node), f"{path} uses {set(NOT_STRUCTURAL) & set(node)}"
        assert not ("properties" in node and "additionalProperties" in node), path
        if node.get("x-kubernetes-preserve-unknown-fields"):
            assert "properties" not in node, path


def test_every_size_is_bounded_so_the_cel_cost_can_be_estimated() -> None:
    for path, node in nodes(root_schema()):
        if path in (".apiVersion", ".kind"):
            continue
        if node.get("type") == "string":
            assert "maxLength" in node or "enum" in node or node.get("format") == "date-time", path
        if node.get("type") == "array":
            assert "maxItems" in node, path
        if node.get("type") == "object" and "additionalProperties" in node:
            assert "maxProperties" in node, path


def test_free_form_fields_are_preserved_objects() -> None:
    preserved = {path for path, node in nodes(root_schema()) if node.get("x-kubernetes-preserve-unknown-fields")}
    assert preserved == {
        ".spec.flow.settings",
        ".spec.flow.json",
        ".spec.automatic.volume",
        ".spec.jobTemplate.resources",
        ".spec.jobTemplate.tolerations[]",
    }


def test_required_fields_and_defaults() -> None:
    schema = dict(nodes(root_schema()))
    assert schema[""]["required"] == ["spec"]
    assert schema[".spec"]["required"] == ["schedule", "flow"]
    assert schema[".spec.flow"]["required"] == ["endpoint"]
    assert schema[".spec.flow.authTokenSecretRef"]["required"] == ["name", "key"]
    defaults = {path: node["default"] for path, node in schema.items() if "default" in node}
    assert defaults[".spec.timeZone"] == "Etc/UTC"
    assert defaults[".spec.enabled"] is True
    assert defaults[".spec.concurrencyPolicy"] == "Forbid"
    assert defaults[".spec.historyLimit"] == 10
    assert defaults[".spec.flow.method"] == "POST"
    assert defaults[".spec.flow.timeoutSeconds"] == 60
    assert schema[".spec.flow.completion"]["required"] == ["jobId", "statusUrl", "doneWhen", "successWhen"]
    assert schema[".spec.flow.form"]["required"] == ["fileField"]
    assert {path: defaults[path] for path in defaults if path.startswith((".spec.flow.retry", ".spec.flow.compl"))} == {
        ".spec.flow.retry.attempts": 1,
        ".spec.flow.retry.backoffSeconds": 10,
        ".spec.flow.retry.maxBackoffSeconds": 300,
        ".spec.flow.completion.intervalSeconds": 10,
        ".spec.flow.completion.timeoutSeconds": 3600,
    }
    assert not [path for path in defaults if path.startswith(".status")]


def test_enums_and_numeric_bounds() -> None:
    schema = dict(nodes(root_schema()))
    assert schema[".spec.concurrencyPolicy"]["enum"] == ["Allow", "Forbid", "Replace"]
    assert schema[".spec.flow.method"]["enum"] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    assert schema[".spec.notifications.on[]"]["enum"] == ["Success", "Failure"]
    assert (schema[".spec.historyLimit"]["minimum"], schema[".spec.historyLimit"]["maximum"]) == (1, 50)
    assert schema[".spec.startingDeadlineSeconds"]["minimum"] == 0
    assert (schema[".spec.flow.timeoutSeconds"]["minimum"], schema[".spec.flow.timeoutSeconds"]["maximum"]) == (
        1,
        3600,
    )
    assert schema[".status.results"]["maxItems"] == 50
    bounds = {path: (schema[path]["minimum"], schema[path]["maximum"]) for path in (
        ".spec.flow.retry.attempts", ".spec.flow.retry.backoffSeconds", ".spec.flow.retry.maxBackoffSeconds",
        ".spec.flow.success.statusCodes[]", ".spec.flow.completion.intervalSeconds",
        ".spec.flow.completion.timeoutSeconds",
    )}
    assert list(bounds.values()) == [(1, 10), (0, 3600), (0, 3600), (100, 599), (1, 3600), (1, 86400)]


@pytest.mark.parametrize(
    ("path", "message_part"),
    [
        (".spec.schedule", "schedule must be 5 cron fields"),
        (".spec.timeZone", "IANA time zone"),
        (".spec.timeZone", "not Local"),
        (".spec.flow.endpoint", "http:// or https://"),
        (".spec.notifications.webhook.url", "http:// or https://"),
        (".spec.notifications.webhook.headers", "header names must be HTTP tokens"),
        (".spec.notifications.webhook.headers{}", "header values must not contain line breaks"),
        (".spec.notifications.emails[]", "email addresses"),
        (".spec.flow.authTokenSecretRef.name", "Kubernetes object name"),
        (".spec.automatic", "automatic.volume is required"),
        (".spec.automatic.path", "relative path"),
        (".spec.flow", "flow.json and flow.form are two bodies"),
        (".spec.flow", "make the flow body, which flow.json or flow.form replace"),
        (".spec.flow", "must not set Content-Type with flow.form"),
        (".spec.flow.headers", "header names must be HTTP tokens"),
        (".spec.flow.headers", "must not set Authorization, Cookie or Host"),
        (".spec.flow.query", "query parameter names"),
        (".spec.flow.form", "form.fileField must not also be a key of form.fields"),
        (".spec.flow.form.fields", "form field names"),
        (".spec.flow.form.fileField", "form field names"),
        (".spec.flow.retry", "retry.maxBackoffSeconds must be at least retry.backoffSeconds"),
        (".spec.flow.success.statusCodes", "must not list a code twice"),
        (".spec.flow.completion.statusUrl", "http:// or https://"),
        (".spec.flow.completion.statusUrl", "must contain {jobId}"),
        ("", "metadata.name must be at most 63 characters"),
    ],
)
def test_cel_rules_with_messages_are_where_they_belong(path: str, message_part: str) -> None:
    assert any(message_part in rule["message"] and rule["rule"] for rule in rules(path))


def test_schedule_rules_use_the_same_regexes_as_the_python_check() -> None:
    shape, *fields = rules(".spec.schedule")
    match = re.fullmatch(r"self\.matches\('(.*)'\)", shape["rule"])
    assert match is not None
    assert match.group(1).replace("\\\\", "\\") == SHAPE_REGEX
    assert len(fields) == len(FIELD_REGEXES)
    for index, (rule, regex) in enumerate(zip(fields, FIELD_REGEXES, strict=True)):
        assert f"self.findAll('[^ ]+')[{index}].matches({cel_string(regex)})" in rule["rule"]
        # The API server's text is checked against the models' in the integration tier (bad_manifests.py).
        before, after = field_message(index, "\0").split("\0")
        field = f"self.findAll('[^ ]+')[{index}]"
        assert rule["messageExpression"] == f"{cel_string(before)} + {field} + {cel_string(after)}"


@given(st.lists(st.sampled_from(["*", "*/5", "0", "7", "13", "24", "32", "61", "1-5", "5-1", "mon", "JAN", "?", "a,b",
                                 "1,2", "0-59/15", "x"]), min_size=4, max_size=6).map(" ".join)
       | st.sampled_from(["@daily", "@every 1h", "@reboot", "", " 0 * * * *"]))
def test_the_shape_and_field_rules_accept_exactly_the_whole_schedule_grammar(schedule: str) -> None:
    shape_ok = re.fullmatch(SHAPE_REGEX, schedule) is not None
    fields = re.findall(FIELD_WORD, schedule)
    fields_ok = schedule.startswith("@") or not shape_ok or all(
        re.fullmatch(regex, field) for regex, field in zip(FIELD_REGEXES, fields, strict=True))
    assert (shape_ok and fields_ok) == (re.fullmatch(SCHEDULE_REGEX, schedule) is not None)


def test_crd_file_is_what_the_generator_prints() -> None:
    assert CRD_FILE.read_text() == crd_yaml(), "regenerate: python -m cronflow.crd > " + str(CRD_FILE)


def test_python_m_cronflow_crd_prints_the_crd_yaml() -> None:
    printed = subprocess.run([sys.executable, "-m", "cronflow.crd"], capture_output=True, text=True, check=True).stdout
    assert printed == crd_yaml()
    assert yaml.safe_load(printed) == crd()
