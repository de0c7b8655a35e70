"""The samples in samples/ are valid ScheduledJobs and Secrets that only hold placeholders."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from cronflow import names
from cronflow.api.models import ScheduledJobSpec

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def documents(kind: str) -> list[tuple[str, dict[str, Any]]]:
    found = [
        (f"{path.name}:{doc['metadata']['name']}", doc)
        for path in sorted(SAMPLES.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc and doc["kind"] == kind
    ]
    assert found, f"no {kind} in samples/"
    return found


@pytest.mark.parametrize(("where", "doc"), documents(names.KIND))
def test_sample_scheduledjob_validates_against_the_model(where: str, doc: dict[str, Any]) -> None:
    assert doc["apiVersion"] == names.API_VERSION
    assert "namespace" not in doc["metadata"], "samples go into the namespace given by kubectl -n"
    ScheduledJobSpec.model_validate(doc["spec"])


@pytest.mark.parametrize(("where", "doc"), documents("Secret"))
def test_sample_secret_holds_only_placeholders(where: str, doc: dict[str, Any]) -> None:
    assert all("REPLACE-WITH" in value for value in doc["stringData"].values())


def test_samples_reference_only_secrets_they_provide() -> None:
    provided = {doc["metadata"]["name"] for _, doc in documents("Secret")}
    referenced = {name for _, doc in documents(names.KIND) for name in ScheduledJobSpec.model_validate(
        doc["spec"]).secret_names()}
    assert referenced == provided
