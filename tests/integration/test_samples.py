"""The API server accepts every sample in samples/ (server-side dry run: schema and CEL rules)."""

from pathlib import Path

import pytest

from tests.support.cluster import Cluster

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_api_server_accepts_every_sample(cluster: Cluster, crd: None, namespace: str) -> None:
    result = cluster.kubectl("apply", "--dry-run=server", "-n", namespace, "-f", str(SAMPLES), check=False)
    assert result.returncode == 0, result.stderr
    applied = sorted(line.split()[0] for line in result.stdout.splitlines())
    expected = sorted(
        f"{kind}/{name}"
        for kind, name in [
            ("scheduledjob.cronflow.dev", "biosamples-import"),
            ("scheduledjob.cronflow.dev", "experiments-import"),
            ("scheduledjob.cronflow.dev", "assemblies-import"),
            ("scheduledjob.cronflow.dev", "add-lineage"),
            ("scheduledjob.cronflow.dev", "create-countries"),
            ("scheduledjob.cronflow.dev", "invoice-flow"),
            ("scheduledjob.cronflow.dev", "weekly-report"),
            ("scheduledjob.cronflow.dev", "invoice-import"),
            ("scheduledjob.cronflow.dev", "nightly-async-flow"),
            ("scheduledjob.cronflow.dev", "fasta-submissions"),
            ("secret", "flow-token"),
            ("secret", "alert-webhook-headers"),
            ("secret", "webapp-api-key"),
            ("persistentvolume", "cronflow-inbox"),
            ("persistentvolumeclaim", "inbox"),
        ]
    )
    assert applied == expected
