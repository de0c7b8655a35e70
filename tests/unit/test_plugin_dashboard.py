"""`kubectl cronflow dashboard`: the kubeconfig's token handed to the page in the URL's fragment, through
kubectl port-forward to the chart's Service (a stand-in kubectl here) or a gateway run in the process."""

import json
import os
import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cronflow.cli import plugin
from cronflow.cli.dashboard import bearer_token, kubeconfig_server, page_url


def kubeconfig(path: Path, user: dict[str, str], namespace: str = "team-a") -> Path:
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "dev",
        "clusters": [{"name": "dev", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "dev", "user": user}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "dev", "namespace": namespace}}],
    }))
    return path


def test_the_token_of_the_context_is_found_and_a_certificate_user_has_none(tmp_path: Path) -> None:
    assert bearer_token(kubeconfig_server(str(kubeconfig(tmp_path / "a", {"token": "tok-123"})), None)) == "tok-123"
    assert bearer_token(kubeconfig_server(str(kubeconfig(tmp_path / "b", {"username": "u", "password": "p"})),
                                          None)) is None


def test_the_token_goes_in_the_fragment_only() -> None:
    url = urlsplit(page_url(8123, "a/b+c", "team-a"))
    assert (url.netloc, url.path, url.query) == ("127.0.0.1:8123", "/", "")
    assert parse_qs(url.fragment) == {"namespace": ["team-a"], "token": ["a/b+c"]}


def test_it_port_forwards_to_the_charts_service_and_opens_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args_file = tmp_path / "kubectl-args"
    fake = tmp_path / "bin" / "kubectl"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >{args_file}\necho "Forwarding from 127.0.0.1:40123 -> 8000"\n'
                    'echo "Handling connection for 40123"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    config = kubeconfig(tmp_path / "config", {"token": "tok-123"})
    assert plugin.main(["dashboard", "--kubeconfig", str(config)]) == 0
    assert args_file.read_text().split() == ["--kubeconfig", str(config), "-n", "cronflow-system", "port-forward",
                                             "svc/cronflow-api", ":80", "--address", "127.0.0.1"]
    assert opened == [page_url(40123, "tok-123", "team-a")]


def test_local_serves_the_page_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages: list[str] = []

    def browse(url: str) -> bool:
        pages.append(requests.get(url, timeout=5).text)
        raise KeyboardInterrupt  # the user's Ctrl-C

    monkeypatch.setattr("webbrowser.open", browse)
    config = kubeconfig(tmp_path / "config", {"token": "tok-123"})
    assert plugin.main(["dashboard", "--local", "--kubeconfig", str(config), "-n", "team-b"]) == 0
    [page] = pages
    assert '<script src="/dashboard.js" defer></script>' in page
