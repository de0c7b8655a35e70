"""The chart's default operator resources against the measured memory (bench/sizing.py), and README's sizing."""

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import sizing
from tests.support.helm import helm_binary

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "cronflow"
UNITS = {"Ki": 1 / 1024, "Mi": 1.0, "Gi": 1024.0, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}


def mib(quantity: str) -> float:
    """A Kubernetes memory quantity (e.g. 256Mi, 1Gi, 300M) in MiB."""
    match = re.fullmatch(r"([0-9.]+)([KMG]i?)?", quantity)
    assert match, f"not a memory quantity: {quantity}"
    number, unit = match.groups()
    return float(number) * (UNITS[unit] if unit else 1 / 2**20)


@pytest.fixture(scope="module")
def operator_resources() -> dict[str, Any]:
    """The operator container's resources as `helm template` renders the chart with its defaults."""
    rendered = subprocess.run(
        [helm_binary(), "template", "cronflow", str(CHART), "--namespace", "cronflow-system"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    deployments = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment"]
    containers = [
        c for d in deployments for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == "operator"
    ]
    assert len(containers) == 1, f"expected one operator container, got {len(containers)}"
    resources: dict[str, Any] = containers[0]["resources"]
    return resources


def test_default_memory_limit_holds_the_measured_need_of_the_documented_size(
    operator_resources: dict[str, Any],
) -> None:
    limit = mib(operator_resources["limits"]["memory"])
    need = sizing.need_mib(sizing.DEFAULT_SIZE)
    assert limit >= need * sizing.HEADROOM, (
        f"the chart's default memory limit {limit:.0f} MiB is below the measured need of {need} MiB for "
        f"{sizing.DEFAULT_SIZE:,} ScheduledJobs with {sizing.HEADROOM}x headroom (bench/sizing.py)"
    )


def test_default_memory_request_covers_an_idle_operator(operator_resources: dict[str, Any]) -> None:
    assert mib(operator_resources["requests"]["memory"]) >= sizing.IDLE_MIB


def test_sizing_figures_are_the_committed_runs() -> None:
    idle, peaks = sizing.measured(sizing.load_sources(REPO))
    assert (idle, peaks) == (sizing.IDLE_MIB, sizing.PEAK_MIB), f"bench/sizing.py differs from {sizing.SOURCES}"


def test_readme_sizing_quotes_bench_sizing() -> None:
    readme = (REPO / "README.md").read_text()
    performance = readme.split("\n## Performance", 1)[1].split("\n## ", 1)[0]
    assert "bench/sizing.py" in performance
    for figure in (
        f"{sizing.IDLE_MIB:g} MiB",
        f"{sizing.per_1000_mib():g} MiB per 1,000",
        f"{sizing.limit_mib(sizing.DEFAULT_SIZE)}Mi",
    ):
        assert figure in performance, f"README's Performance section does not quote {figure!r} (bench/sizing.py)"


@pytest.mark.parametrize(("quantity", "expected"), [("256Mi", 256.0), ("1Gi", 1024.0), ("512Ki", 0.5)])
def test_memory_quantities_in_mib(quantity: str, expected: float) -> None:
    assert mib(quantity) == expected
