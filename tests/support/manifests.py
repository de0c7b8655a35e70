"""ScheduledJob manifests for the cluster tiers and the benchmark."""

from typing import Any

from cronflow import names

FAR_OFF = "0 3 1 1 *"
"""A schedule that does not fire while a test or a benchmark runs (03:00 on 1 January)."""
NO_FLOW_SERVICE = "https://flows.invalid/api/v1/flow/run"
"""A flow endpoint that never answers (the .invalid domain does not resolve): for runs that must not reach one."""


def scheduledjob(name: str, namespace: str | None = None, **spec: Any) -> dict[str, Any]:
    """A ScheduledJob; `spec` fields (camelCase, as in the CRD) are added or replace the defaults: a far-off
    `schedule` and `flow` {endpoint: NO_FLOW_SERVICE}. Without `namespace` the metadata names none."""
    metadata = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": metadata,
        "spec": {"schedule": FAR_OFF, "flow": {"endpoint": NO_FLOW_SERVICE}, **spec},
    }
