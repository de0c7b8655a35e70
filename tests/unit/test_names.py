"""Names of children: short enough for Kubernetes, deterministic, distinct."""

import re

import pytest

from cronflow import names

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LONG = "nightly-import-of-all-the-invoices-from-the-accounting-system"  # 61 characters
MAX = "x" * 63


def test_short_scheduledjob_name_is_the_cronjob_name() -> None:
    assert names.cronjob_name("nightly-import") == "nightly-import"
    assert names.cronjob_name("a" * 52) == "a" * 52


@pytest.mark.parametrize("sj_name", [LONG, MAX, "a" * 53, "reports.eu-west." + "b" * 40])
def test_long_scheduledjob_names_give_a_cronjob_name_of_at_most_52_characters(sj_name: str) -> None:
    cronjob = names.cronjob_name(sj_name)
    assert len(cronjob) <= 52
    assert cronjob[-1].isalnum() and cronjob[0] == sj_name[0]
    # The CronJob controller names Jobs "<cronjob>-<minutes since epoch>": it must fit 63 characters.
    assert len(f"{cronjob}-{29_000_000:d}") <= 63
    assert names.cronjob_name(sj_name) == cronjob


def test_long_names_that_share_a_prefix_get_different_cronjob_names() -> None:
    assert names.cronjob_name(LONG + "-a") != names.cronjob_name(LONG + "-b")


def test_trigger_job_name_is_deterministic_readable_and_a_dns_label() -> None:
    name = names.trigger_job_name("nightly-import", "2026-11-22T12:00:00Z")
    assert name == names.trigger_job_name("nightly-import", "2026-11-22T12:00:00Z")
    assert name.startswith("nightly-import-manual-")
    assert DNS_LABEL.match(name)


def test_each_trigger_token_gets_its_own_job_name() -> None:
    tokens = ["1", "2", "2026-11-22T12:00:00Z", "2026-11-22T12:00:01Z"]
    assert len({names.trigger_job_name("nightly-import", token) for token in tokens}) == len(tokens)


def test_same_token_on_two_scheduledjobs_gives_two_job_names() -> None:
    assert names.trigger_job_name(LONG + "-a", "t") != names.trigger_job_name(LONG + "-b", "t")


@pytest.mark.parametrize("sj_name", [LONG, MAX, "reports.eu-west.nightly", "a"])
def test_run_job_names_fit_63_characters_as_dns_labels(sj_name: str) -> None:
    for name in (names.trigger_job_name(sj_name, "t" * 128), names.file_job_name(sj_name, "in/" + "f" * 1000)):
        assert len(name) <= 63
        assert DNS_LABEL.match(name), name


def test_file_job_name_is_deterministic_per_file_and_differs_from_the_trigger_name() -> None:
    first = names.file_job_name("inbox", "invoices/2026-11-22.pdf")
    assert first == names.file_job_name("inbox", "invoices/2026-11-22.pdf")
    assert first.startswith("inbox-file-")
    assert first != names.file_job_name("inbox", "invoices/2026-11-23.pdf")
    assert names.trigger_job_name("inbox", "invoices/2026-11-22.pdf") != first


def test_label_and_annotation_keys_follow_the_design() -> None:
    assert (names.MANAGED_BY_LABEL, names.MANAGED_BY_VALUE) == ("app.kubernetes.io/managed-by", "cronflow")
    assert names.SCHEDULEDJOB_LABEL == "cronflow.dev/scheduledjob"
    assert names.TRIGGER_ANNOTATION == "cronflow.dev/trigger"
    assert names.TRIGGER_TOKEN_ANNOTATION == "cronflow.dev/trigger-token"
    assert names.RESULT_FINALIZER == "cronflow.dev/result"
    assert names.API_VERSION == "cronflow.dev/v1alpha1"
