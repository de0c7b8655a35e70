"""`kubectl cronflow import crontab`: a corpus of real-looking crontab lines, translated or refused."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from cronflow import names
from cronflow.api.models import parse_spec
from cronflow.cli import crontab, plugin

APP = "http://app:5000/cronjob"

TRANSLATED: list[tuple[str, dict[str, Any]]] = [
    (f"0 2 * * * curl {APP}/biosamples/import", {"endpoint": f"{APP}/biosamples/import", "method": "GET"}),
    (
        f"0 2 * * * curl -fsS -X POST {APP}/biosamples/import > /dev/null 2>&1",
        {"endpoint": f"{APP}/biosamples/import", "method": "POST"},
    ),
    (
        f"0 2 * * * /usr/bin/curl -XPUT -sSk {APP}/a",
        {"endpoint": f"{APP}/a", "method": "PUT", "verifySslCertificate": False},
    ),
    (
        f"""*/10 * * * * curl -s -H 'X-Team: genomics' -d '{{"project": "PRJ1"}}' """
        '-H "Content-Type: application/json" '
        f"-m 120 --retry 2 {APP}/experiments/import",
        {
            "endpoint": f"{APP}/experiments/import",
            "method": "POST",
            "json": {"project": "PRJ1"},
            "headers": {"X-Team": "genomics"},
            "timeoutSeconds": 120,
            "retry": {"attempts": 3},
        },
    ),
    (
        f"0 3 * * * curl -G -d accession=PRJ1 -d full=1 {APP}/assemblies/import",
        {"endpoint": f"{APP}/assemblies/import", "method": "GET", "query": {"accession": "PRJ1", "full": "1"}},
    ),
    (
        f"""@daily curl --json '{{"all": true}}' {APP}/b""",
        {"endpoint": f"{APP}/b", "method": "POST", "json": {"all": True}, "headers": {"Accept": "application/json"}},
    ),
    ("@hourly curl app/cronjob/c", {"endpoint": "http://app/cronjob/c", "method": "GET"}),
    (
        f"0 4 * * * curl -X DELETE '{APP}/helpers/handle_orphans?older=30d'",
        {"endpoint": f"{APP}/helpers/handle_orphans?older=30d", "method": "DELETE"},
    ),
    (f"0 4 * * * curl -d '' {APP}/d", {"endpoint": f"{APP}/d", "method": "POST"}),
    (
        f"15 1 * * * wget -qO- --tries=3 -T 30 --no-check-certificate {APP}/geo_locations/create_countries",
        {
            "endpoint": f"{APP}/geo_locations/create_countries",
            "method": "GET",
            "timeoutSeconds": 30,
            "verifySslCertificate": False,
            "retry": {"attempts": 3},
        },
    ),
    (
        f"""15 1 * * * wget -q -O /dev/null --post-data='{{"a": 1}}' {APP}/e""",
        {"endpoint": f"{APP}/e", "method": "POST", "json": {"a": 1}},
    ),
    (f"0 5 * * * www-data curl -s {APP}/f", {"endpoint": f"{APP}/f", "method": "GET"}),
    (f"0 5 * * * curl '{APP}/g?x=100\\%'", {"endpoint": f"{APP}/g?x=100%", "method": "GET"}),
]

REFUSED: list[tuple[str, str]] = [
    (f"@reboot curl {APP}/a", "@reboot runs when cron starts"),
    (f"0 * * * * curl {APP}/a | tee /tmp/log", "a pipeline"),
    (f"0 * * * * curl {APP}/a && touch /tmp/ok", "a background job or `&&`"),
    (f"0 * * * * curl {APP}/a; date", "a command list"),
    (f"0 * * * * curl {APP}/a >> /var/log/cron.log 2>&1", "an output redirection to a file"),
    (f"0 * * * * curl {APP}/$JOB", "a shell variable"),
    (f'0 * * * * curl "{APP}/$(date +\\%F)"', "a shell variable"),
    (f"0 * * * * curl {APP}/`hostname`", "command substitution"),
    (f"0 * * * * curl -d 'date=%F' {APP}/a", "an unescaped %"),
    (f"*/30 * * * * * curl {APP}/a", "six time fields"),
    ("0 6 * * * /opt/app/bin/cleanup.sh --all", "runs 'cleanup.sh', not curl or wget"),
    (f"0 6 * * * LANG=C curl {APP}/a", "sets a variable"),
    (f"0 6 * * * curl -d 'a=1&b=2' {APP}/a", "the body is not JSON"),
    (f"0 6 * * * curl -d @payload.json {APP}/a", "read from a file"),
    (f"0 6 * * * curl --json '[1, 2]' {APP}/a", "the JSON body is not an object"),
    (f"0 6 * * * curl -F file=@x.csv {APP}/a", "a multipart form"),
    (f"0 6 * * * curl -o /tmp/out {APP}/a", "writes the answer to a file"),
    (f"0 6 * * * curl -I {APP}/a", "curl option -I has no cronflow equivalent"),
    (f"0 6 * * * curl -X HEAD {APP}/a", "method HEAD"),
    (f"0 6 * * * curl {APP}/a {APP}/b", "more than one URL"),
    ("0 6 * * * curl ftp://files/x", "ftp:// is not http or https"),
    (f"0 6 * * * curl -H 'Cookie: s=1' {APP}/a", "does not send cookies"),
    (f"0 6 * * * curl -m 0.0 {APP}/a", "timeout is 1..3600"),
    (f"0 6 * * * wget --spider {APP}/a", "--spider"),
    ("0 6 * * * curl 'http://u:p@app/x'", "spec.flow.endpoint"),
    (f"61 * * * * curl {APP}/a", "spec.schedule"),
    (f"@every curl {APP}/a", "is not a cron macro"),
    ("0 6 * * *", "not a crontab entry"),
]


@pytest.mark.parametrize(("line", "flow"), TRANSLATED, ids=[line for line, _ in TRANSLATED])
def test_translated_line(line: str, flow: dict[str, Any]) -> None:
    entries, skipped = crontab.import_crontab(line)
    assert skipped == []
    [entry] = entries
    spec = entry.manifests[-1]["spec"]
    assert spec["flow"] == flow
    parse_spec(spec)  # what is printed applies


@pytest.mark.parametrize(("line", "reason"), REFUSED, ids=[line for line, _ in REFUSED])
def test_refused_line(line: str, reason: str) -> None:
    entries, skipped = crontab.import_crontab(f"# comment\n{line}\n")
    assert entries == []
    assert [s.line for s in skipped] == [2]
    assert reason in skipped[0].reason


def test_file_with_time_zones_comments_names_and_skips() -> None:
    text = "\n".join(
        [
            "SHELL=/bin/bash",
            "MAILTO=ops@example.com",
            "# Import biosamples",
            "# every night",
            f"0 2 * * * curl -s {APP}/biosamples/import",
            "",
            "CRON_TZ=Europe/London",
            f"0 3 * * * curl -s -X POST {APP}/biosamples/import",
            f"0 4 * * * curl -s {APP}/a | cat",
            "TZ=Mars/Olympus",
            f"0 5 * * * curl -s {APP}/b",
            "TZ=Asia/Tokyo",
            "@weekly curl -s http://app/cronjob/Helpers/Add_Lineage",
        ]
    )
    entries, skipped = crontab.import_crontab(text, namespace="team-a", time_zone="Europe/Amsterdam", prefix="web-")
    jobs = [entry.manifests[-1] for entry in entries]
    assert [(j["metadata"]["name"], j["spec"]["timeZone"]) for j in jobs] == [
        ("web-biosamples-import", "Europe/Amsterdam"),
        ("web-biosamples-import-2", "Europe/London"),
        ("web-helpers-add-lineage", "Asia/Tokyo"),
    ]
    assert jobs[0]["metadata"] == {
        "name": "web-biosamples-import",
        "namespace": "team-a",
        "annotations": {
            names.CRONTAB_LINE_ANNOTATION: "5",
            names.CRONTAB_COMMENT_ANNOTATION: "Import biosamples every night",
        },
    }
    assert names.CRONTAB_COMMENT_ANNOTATION not in jobs[1]["metadata"]["annotations"]  # a variable line between
    assert [(s.line, s.reason.split(" ")[0]) for s in skipped] == [(9, "a"), (10, "time"), (11, "time")]


def test_credentials_go_into_a_labelled_secret_never_into_the_spec() -> None:
    line = f"0 * * * * curl -H 'Authorization: Bearer s3cr3t' -H 'X-Team: a' {APP}/biosamples/import"
    [entry], _ = crontab.import_crontab(line, namespace="team-a")
    secret, job = entry.manifests
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "biosamples-import-credentials",
            "namespace": "team-a",
            "labels": {names.USABLE_LABEL: "true"},
        },
        "type": "Opaque",
        "stringData": {"token": "s3cr3t"},
    }
    assert job["spec"]["flow"]["authTokenSecretRef"] == {"name": "biosamples-import-credentials", "key": "token"}
    assert job["spec"]["flow"]["headers"] == {"X-Team": "a"}
    assert "s3cr3t" not in yaml.safe_dump(job)


def test_api_keys_and_basic_auth_become_secret_headers() -> None:
    line = f"0 * * * * curl -u admin:pw -H 'X-Api-Key: k1' {APP}/a"
    [entry], _ = crontab.import_crontab(line)
    secret, job = entry.manifests
    assert secret["stringData"] == {
        "X-Api-Key": "k1",
        "Authorization": "Basic " + base64.b64encode(b"admin:pw").decode(),
    }
    assert job["spec"]["flow"] == {
        "endpoint": f"{APP}/a",
        "method": "GET",
        "headersSecretRef": {"name": "a-credentials"},
    }
    parse_spec(job["spec"])


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (f"{APP}/biosamples/import", "biosamples-import"),
        ("http://app/api/v1/cron/geo_locations/create_from_biosamples", "geo-locations-create-from-biosamples"),
        ("https://reports.example.com/nightly/run.php?all=1", "nightly-run-php"),
        ("https://reports.example.com/", "reports"),
        ("http://10.0.0.1:8080/", "10-0-0-1"),
    ],
)
def test_name_from_url(url: str, name: str) -> None:
    assert crontab.name_from_url(url) == name


def test_unique_names_stay_within_the_name_limit() -> None:
    long = "a" * 80
    first = crontab.unique_name(long, set())
    second = crontab.unique_name(long, {first})
    assert len(first) == len(second) == names.MAX_SCHEDULEDJOB_NAME
    assert second.endswith("-2") and second != first


def test_plugin_prints_yaml_and_fails_when_lines_were_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crontab"
    path.write_text(f"0 2 * * * curl -H 'X-Api-Key: k9' {APP}/biosamples/import\n@reboot curl {APP}/x\n")
    assert plugin.main(["import", "crontab", str(path), "-n", "team-a"]) == 1
    out, err = capsys.readouterr()
    secret, job = yaml.safe_load_all(out)
    assert (secret["kind"], job["kind"], job["metadata"]["namespace"]) == ("Secret", names.KIND, "team-a")
    assert "line 1: credentials moved into Secret biosamples-import-credentials" in err
    assert "line 2: skipped: @reboot" in err
    assert "k9" not in err

    path.write_text(f"0 2 * * * curl {APP}/biosamples/import\n")
    assert plugin.main(["-n", "team-b", "import", "crontab", str(path)]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["metadata"]["namespace"] == "team-b"


def test_plugin_refuses_an_unknown_time_zone_and_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.main(["import", "crontab", str(tmp_path / "missing")]) == 1
    assert "No such file" in capsys.readouterr().err
    (tmp_path / "c").write_text("")
    assert plugin.main(["import", "crontab", str(tmp_path / "c"), "--time-zone", "Nowhere/City"]) == 1
    assert "unknown time zone 'Nowhere/City'" in capsys.readouterr().err
