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


def cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (e.g. 500m, 1, 1.5) in cores."""
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


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


def test_default_cpu_limit_does_not_throttle_the_measured_burst(operator_resources: dict[str, Any]) -> None:
    limit = cores(operator_resources["limits"]["cpu"])
    assert limit >= sizing.BURST_CORES * sizing.HEADROOM, (
        f"the chart's default CPU limit ({limit} cores) would throttle the operator while it reconciles "
        f"{sizing.DEFAULT_SIZE:,} new ScheduledJobs at once (measured {sizing.BURST_CORES} of a core, bench/sizing.py)"
    )


def test_sizing_figures_are_the_committed_runs() -> None:
    reports = sizing.load_sources(REPO)
    idle, peaks = sizing.measured(reports)
    assert (idle, peaks) == (sizing.IDLE_MIB, sizing.PEAK_MIB), f"bench/sizing.py differs from {sizing.SOURCES}"
    assert sizing.burst_cores(reports) == sizing.BURST_CORES


def test_readme_sizing_quotes_bench_sizing() -> None:
    readme = (REPO / "README.md").read_text()
    performance = readme.split("\n## Performance", 1)[1].split("\n## ", 1)[0]
    assert "bench/sizing.py" in performance
    for figure in (
        f"{sizing.IDLE_MIB:g} MiB",
        f"{sizing.per_1000_mib():g} MiB per 1,000",
        f"{sizing.limit_mib(sizing.DEFAULT_SIZE)}Mi",
        f"**{sizing.BURST_CORES:g}** of a",
    ):
        assert figure in performance, f"README's Performance section does not quote {figure!r} (bench/sizing.py)"


@pytest.mark.parametrize(("quantity", "expected"), [("500m", 0.5), ("1", 1.0), ("1.5", 1.5)])
def test_cpu_quantities_in_cores(quantity: str, expected: float) -> None:
    assert cores(quantity) == expected


@pytest.mark.parametrize(("quantity", "expected"), [("256Mi", 256.0), ("1Gi", 1024.0), ("512Ki", 0.5)])
def test_memory_quantities_in_mib(quantity: str, expected: float) -> None:
    assert mib(quantity) == expected
