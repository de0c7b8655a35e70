"""The shell scripts of hack/: shared variables defined in one place, argument checks of the entry points.

shellcheck and `bash -n` on every script run in hack/test's checks stage, not here.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HACK = REPO / "hack"
GLOBALS = HACK / "lib" / "globals.sh"
LIBS = sorted(path for path in (HACK / "lib").glob("*.sh") if path != GLOBALS)
ENTRY_POINTS = [HACK / name for name in ("cluster", "images", "demo", "test", "setup", "render-manifests")]
# Set by bash or the environment, not by the project.
ENVIRONMENT = {"BASH_SOURCE", "HOME", "PATH", "SECONDS", "TMPDIR"}

ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)
UPPER_CASE_REFERENCE = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")


def assigned(path: Path) -> set[str]:
    return set(ASSIGNMENT.findall(path.read_text()))


def defined_globals() -> set[str]:
    return assigned(GLOBALS) | assigned(HACK / "versions.env")


def declared(path: Path) -> set[str]:
    """The names on the file's `# Globals:` header lines."""
    return {
        name for line in path.read_text().splitlines() if line.startswith("# Globals:") for name in line.split()[2:]
    }


def test_the_shared_variables_are_defined_in_globals_sh() -> None:
    assert {"STATE_DIR", "BIN_DIR", "PAUSE_IMAGE", "POD_GATEWAY", "K8S_VERSION"} <= defined_globals()


@pytest.mark.parametrize("lib", LIBS, ids=lambda path: path.name)
def test_a_lib_file_names_every_global_it_reads_and_assigns_none(lib: Path) -> None:
    read = set(UPPER_CASE_REFERENCE.findall(lib.read_text())) - ENVIRONMENT
    assert declared(lib) == read, f"the '# Globals:' lines of {lib.name} do not match what it reads"
    assert declared(lib) <= defined_globals(), "a declared global is not defined in hack/lib/globals.sh"
    top_level = {m.group(1) for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)=", lib.read_text(), re.MULTILINE)}
    assert not top_level, f"{lib.name} assigns {top_level} at top level: define shared variables in globals.sh"


@pytest.mark.parametrize("script", ENTRY_POINTS, ids=lambda path: path.name)
def test_no_entry_point_redefines_a_global(script: Path) -> None:
    assert not assigned(script) & defined_globals()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_cluster_build_helm_alone_takes_the_cached_helm(tmp_path: Path) -> None:
    version = next(
        line.split("=", 1)[1] for line in (HACK / "versions.env").read_text().splitlines() if line.startswith("K8S_")
    )
    helm = tmp_path / "k8s" / version / "bin" / "helm"
    helm.parent.mkdir(parents=True)
    helm.write_text("#!/bin/sh\n")
    helm.chmod(0o755)
    result = run(str(HACK / "cluster"), "build", "helm", env={"CRONFLOW_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "cached: helm" in result.stderr
    assert "kube" not in result.stderr and "etcd" not in result.stderr
    assert f"PATH={helm.parent}:" in run(str(HACK / "cluster"), "env", env={"CRONFLOW_CACHE": str(tmp_path)}).stdout


def test_cluster_build_refuses_an_unknown_component_before_building(tmp_path: Path) -> None:
    result = run(str(HACK / "cluster"), "build", "helm", "kubelet", env={"CRONFLOW_CACHE": str(tmp_path)})
    assert result.returncode != 0
    assert "unknown component: kubelet" in result.stderr
    assert "building" not in result.stderr


def test_hack_test_refuses_an_unknown_stage_before_any_setup() -> None:
    result = run(str(HACK / "test"), "--stage", "checks,lint")
    assert result.returncode == 2
    assert "unknown stage: lint" in result.stderr
    assert "[setup" not in result.stderr and "stage 1/3" not in result.stderr


def test_hack_setup_refuses_an_unknown_part_before_installing() -> None:
    result = run(str(HACK / "setup"), "python", "docker")
    assert result.returncode == 2
    assert "unknown part: docker" in result.stderr
    assert "apt-get" not in result.stderr and "installing" not in result.stderr
