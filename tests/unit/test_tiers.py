"""The test tiers are safe to run: a foreign KUBECONFIG is refused, a plain `pytest` runs the unit tier only."""

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
