"""The validation oracle: the API server (the CRD's schema and CEL rules) and the models give the same verdict.

Hypothesis generates ScheduledJobs, valid and not (tests/support/oracle.py); each is a server-side dry-run
create, so nothing is stored. The verdicts must be equal, except where they differ by design (checks the
operator makes beyond the schema, nulls the API server drops), which the judge checks in their own way;
the models must never crash. Disagreements found and not fixed yet are `oracle.KNOWN`: tolerated here,
and each pinned by an example that must still disagree. `python -m bench.oracle` runs the same for longer.

Dry runs store nothing, so the namespace may be any: a fresh one by default, or the existing one that
`CRONFLOW_ORACLE_NAMESPACE` names.
"""

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from kubernetes import client

from tests.support import oracle
from tests.support.cluster import Cluster

pytestmark = pytest.mark.integration

EXAMPLES = 150
"""Generated cases per run (about 10 s against the local API server); the same ones each run."""


@pytest.fixture(scope="module")
def dry_run(cluster: Cluster, crd: None, api: client.ApiClient) -> Iterator[oracle.DryRun]:
    """Dry-run creates in this module's namespace."""
    existing = os.environ.get("CRONFLOW_ORACLE_NAMESPACE")
    if existing:
        yield oracle.DryRun(api, existing)
        return
    name = f"oracle-{uuid.uuid4().hex[:5]}"
    cluster.kubectl("create", "namespace", name)
    try:
        yield oracle.DryRun(api, name)
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def judged(dry_run: oracle.DryRun, case: oracle.Case, known: tuple[oracle.Known, ...] | None = None) -> oracle.Outcome:
    return oracle.judge(case, oracle.model_verdict(case), dry_run.verdict(case), known)


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(case=oracle.cases())
def test_api_server_and_models_agree_on_generated_scheduledjobs(dry_run: oracle.DryRun, case: oracle.Case) -> None:
    outcome = judged(dry_run, case)
    assert not outcome.failed, outcome.report()


@pytest.mark.parametrize(
    ("case", "expected"),
    [(case, kinds) for _, case, kinds in oracle.EDGE_CASES],
    ids=[case_id for case_id, _, _ in oracle.EDGE_CASES],
)
def test_edge_case_has_the_expected_outcome(
    dry_run: oracle.DryRun, case: oracle.Case, expected: tuple[str, ...]
) -> None:
    outcome = judged(dry_run, case)
    assert outcome.kind in expected, outcome.report()


@pytest.mark.parametrize("known", oracle.KNOWN, ids=[k.id for k in oracle.KNOWN])
def test_each_known_disagreement_is_still_there(dry_run: oracle.DryRun, known: oracle.Known) -> None:
    unknown = judged(dry_run, known.example, known=())
    assert unknown.failed, (
        f"{known.id} no longer disagrees (fixed?): remove it from KNOWN in tests/support/oracle.py\n{unknown.report()}"
    )
    assert judged(dry_run, known.example).kind == f"known:{known.id}"
