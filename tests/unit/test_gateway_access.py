"""The gateway's Kubernetes access: every call carries the caller's token and none of the gateway's own
credentials; and its command line."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from cronflow.gateway import __main__ as cli
from cronflow.gateway import access
from cronflow.gateway.access import ApiError, KubeCluster, token_configuration
from cronflow.gateway.settings import GatewaySettings
from tests.support.api_standin import StandInApi, standin_api

SJ = {"metadata": {"namespace": "team-a", "name": "daily-job-abcde", "uid": "u-1"}}


class _Recorder(StandInApi):
    """Answers every request with a small JSON object (403 for paths with 'forbidden') and records it."""

    def answer(self) -> tuple[int, dict[str, Any]]:
        document = {"message": "no", "status": {"userInfo": {"username": "alice"}}, "items": [],
                    "metadata": {"uid": "u-1"}}
        return (403 if "forbidden" in self.path else 200), document


@pytest.fixture
def api_server() -> Iterator[tuple[client.Configuration, list[dict[str, Any]]]]:
    """A stand-in API server, and the gateway's own configuration for it (with credentials of its own)."""
    with standin_api(_Recorder) as url:
        own = client.Configuration(host=url, api_key={"authorization": "gateway-own-token"},
                                   api_key_prefix={"authorization": "Bearer"})
        own.cert_file, own.key_file, own.username, own.password = "/gateway.crt", "/gateway.key", "admin", "pw"
        yield own, _Recorder.requests


def test_a_token_configuration_keeps_the_server_and_ca_and_drops_every_own_credential() -> None:
    own = client.Configuration(host="https://10.0.0.1:6443", api_key={"authorization": "own"})
    own.ssl_ca_cert, own.cert_file, own.key_file, own.username = "/ca.crt", "/own.crt", "/own.key", "admin"
    made = token_configuration(own, "caller")
    assert (made.host, made.ssl_ca_cert, made.verify_ssl) == ("https://10.0.0.1:6443", "/ca.crt", True)
    assert (made.cert_file, made.key_file, made.username, made.refresh_api_key_hook) == (None, None, None, None)
    assert made.auth_settings()["BearerToken"]["value"] == "Bearer caller"


def test_in_a_pod_the_api_server_comes_from_the_environment_and_the_mounted_ca(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(access, "IN_CLUSTER_CA", str(ca))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    found = access.api_server()
    assert (found.host, found.ssl_ca_cert, found.api_key) == ("https://[fd00::1]:443", str(ca), {})


def test_every_call_is_made_with_the_callers_token(api_server: tuple[client.Configuration, list[Any]]) -> None:
    own, seen = api_server
    cluster = KubeCluster(own, "caller-token")
    assert cluster.username() == "alice"
    cluster.list_scheduledjobs("team-a")
    cluster.read_scheduledjob("team-a", "daily-job-abcde")
    cluster.create_scheduledjob({"metadata": {"namespace": "team-a", "name": "daily-job-abcde"}})
    cluster.patch_spec(SJ, {"enabled": False})
    cluster.delete_scheduledjob(SJ)
    cluster.create_secret({"metadata": {"namespace": "team-a", "name": "s"}})
    cluster.close()
    sj_path = "/apis/cronflow.dev/v1alpha1/namespaces/team-a/scheduledjobs"
    assert [(r["method"], r["path"]) for r in seen] == [
        ("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews"), ("GET", sj_path),
        ("GET", f"{sj_path}/daily-job-abcde"), ("POST", sj_path), ("PATCH", f"{sj_path}/daily-job-abcde"),
        ("DELETE", f"{sj_path}/daily-job-abcde"), ("POST", "/api/v1/namespaces/team-a/secrets"),
    ]
    assert {r["headers"]["authorization"] for r in seen} == {"Bearer caller-token"}
    assert seen[4]["body"] == {"metadata": {"uid": "u-1"}, "spec": {"enabled": False}}  # that very object
    assert seen[5]["body"] == {"preconditions": {"uid": "u-1"}, "propagationPolicy": "Background"}
    assert all(r["headers"].get("Content-Type", "").endswith("json") for r in seen if r["method"] in ("POST", "PATCH"))


def test_a_refusal_is_an_api_error_with_the_servers_status_and_message(
    api_server: tuple[client.Configuration, list[Any]]
) -> None:
    with pytest.raises(ApiError) as refused:
        KubeCluster(api_server[0], "caller-token").list_scheduledjobs("forbidden")
    assert (refused.value.status, refused.value.message) == (403, "no")


def test_command_line_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRONFLOW_API_NAMESPACE", "from-env")
    monkeypatch.setenv("CRONFLOW_API_PORT", "9000")
    given = cli.parse_args(["--namespace", "team-a", "--flow-endpoint", "https://flows.example.com/run"])
    settings = GatewaySettings(**given)  # type: ignore[arg-type]
    assert (settings.namespace, settings.port, settings.flow_endpoint) == ("team-a", 9000,
                                                                          "https://flows.example.com/run")


def test_invalid_settings_exit_2_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--flow-endpoint", "ftp://flows.example.com"]) == 2
    assert "flow_endpoint" in capsys.readouterr().err
