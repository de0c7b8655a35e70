"""The test tiers are safe to run: a foreign KUBECONFIG is refused, a plain `pytest` runs the unit tier only;
the newest stage runs the newest control plane with the pinned node."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_a_foreign_kubeconfig_is_refused_before_any_cluster_test_runs(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "work-cluster.kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    result = run_pytest("tests/integration/test_cluster.py", KUBECONFIG=str(kubeconfig))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "is not the local test cluster" in result.stdout + result.stderr
    assert " passed" not in result.stdout


def test_a_plain_pytest_collects_the_unit_tier_only() -> None:
    result = run_pytest("--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert collected and all(line.startswith("tests/unit/") for line in collected)


def versions() -> dict[str, str]:
    lines = (REPO / "hack" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_newest_stage_takes_the_newest_control_plane_and_keeps_the_node(tmp_path: Path) -> None:
    pins = versions()
    for version, components in ((pins["K8S_VERSION"], ("kubelet", "kube-proxy", "kubectl")),
                                (pins["K8S_NEWEST_VERSION"], ("kube-apiserver", "kube-controller-manager",
                                                              "kube-scheduler"))):
        for name in components:  # cached stand-ins: nothing is built
            binary = tmp_path / "k8s" / version / "bin" / name
            binary.parent.mkdir(parents=True, exist_ok=True)
            binary.write_text("#!/bin/sh\n")
            binary.chmod(0o755)
    result = subprocess.run(
        [str(REPO / "hack" / "cluster"), "build", "kubernetes"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "CRONFLOW_CACHE": str(tmp_path), "CRONFLOW_CONTROL_PLANE": "newest"},
    )
    assert result.returncode == 0, result.stderr
    assert f"cached: kube-apiserver ({pins['K8S_NEWEST_VERSION']})" in result.stderr
    assert f"cached: kubelet ({pins['K8S_VERSION']})" in result.stderr
    assert "building" not in result.stderr


def test_an_unknown_control_plane_choice_is_refused() -> None:
    result = subprocess.run([str(REPO / "hack" / "cluster"), "env"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "CRONFLOW_CONTROL_PLANE": "latest"})
    assert result.returncode != 0
    assert "CRONFLOW_CONTROL_PLANE=latest: pinned" in result.stderr
