"""RBAC as kubectl-appliable Lists: the operator's for one namespace (from the chart's rule files), and a
gateway caller's."""

from pathlib import Path
from typing import Any

import yaml

from cronflow import names

REPO = Path(__file__).resolve().parents[2]
OPERATOR_USER = "cronflow-operator"
SCHEDULER_USER = "scheduler-user"
"""The ServiceAccount whose token the gateway tests send, as a script of the original API would."""


def operator_rbac(namespace: str, leases: bool = False) -> dict[str, Any]:
    """A Role with the chart's rules in `namespace` and the chart's small ClusterRole, bound to the user;
    with `leases`, also the chart's Role for the leader election's Lease in `namespace`."""
    files = REPO / "charts/cronflow/files"
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": OPERATOR_USER}]
    items: list[dict[str, Any]] = []
    roles = [
        ("Role", "rbac-rules.yaml", {"name": "cronflow-operator", "namespace": namespace}),
        ("ClusterRole", "rbac-cluster-rules.yaml", {"name": "cronflow-operator-observer"}),
    ]
    if leases:
        roles.append(("Role", "rbac-lease-rules.yaml", {"name": "cronflow-operator-leader-election",
                                                       "namespace": namespace}))
    for kind, rules_file, meta in roles:
        rules = yaml.safe_load((files / rules_file).read_text())
        binding_kind = "RoleBinding" if kind == "Role" else "ClusterRoleBinding"
        items += [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind, "metadata": meta,
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": meta["name"]},
             "subjects": subjects},
        ]
    return {"apiVersion": "v1", "kind": "List", "items": items}


def scheduler_user_rbac(namespace: str) -> dict[str, Any]:
    """A ServiceAccount with a Role on ScheduledJobs (and Secret create, for the auth_token) in `namespace`."""
    meta = {"name": SCHEDULER_USER, "namespace": namespace}
    rules = [
        {"apiGroups": [names.GROUP], "resources": [names.PLURAL],
         "verbs": ["get", "list", "create", "patch", "delete"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SCHEDULER_USER},
         "subjects": [{"kind": "ServiceAccount", "name": SCHEDULER_USER, "namespace": namespace}]},
    ]}
