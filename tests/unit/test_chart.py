"""The Helm chart: what each documented values combination renders, the values schema, lint, no drift."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cronflow import names
from cronflow.children import watcher
from cronflow.gateway import access
from cronflow.gateway.settings import GatewaySettings
from tests.support.helm import helm_binary

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "cronflow"
RULES = yaml.safe_load((CHART / "files" / "rbac-rules.yaml").read_text())
CLUSTER_RULES = yaml.safe_load((CHART / "files" / "rbac-cluster-rules.yaml").read_text())
LEASE_RULES = yaml.safe_load((CHART / "files" / "rbac-lease-rules.yaml").read_text())
LEASE_ROLE = "cronflow-leader-election"
CRD = yaml.safe_load((REPO / "crds" / "scheduledjobs.cronflow.dev.yaml").read_text())
NAMESPACE = "cronflow-system"
SERVICE_ACCOUNT = [{"kind": "ServiceAccount", "name": "cronflow", "namespace": NAMESPACE}]

Objects = list[dict[str, Any]]


@pytest.fixture(scope="module")
def helm() -> str:
    """The pinned helm."""
    return helm_binary()


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm, *args], capture_output=True, text=True, timeout=60)


def template(helm: str, *values: str) -> Objects:
    """`helm template` with `--set` values, as a list of objects."""
    sets = [arg for value in values for arg in ("--set", value)]
    result = run_helm(helm, "template", "cronflow", str(CHART), "--namespace", NAMESPACE, *sets)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def only(objects: Objects, kind: str) -> dict[str, Any]:
    found = [obj for obj in objects if obj["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    found = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, got {len(found)}"
    return found[0]


def kinds(objects: Objects) -> list[str]:
    return sorted(obj["kind"] for obj in objects)


def container(objects: Objects) -> dict[str, Any]:
    containers = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env(objects: Objects) -> dict[str, Any]:
    """The operator's environment: plain values as strings, references as their `valueFrom`."""
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container(objects)["env"]}


def assert_hardened(pod: dict[str, Any]) -> None:
    """The restricted Pod Security Standard and the chart's hardening: non-root uid 65532, RuntimeDefault
    seccomp, no host namespaces or ports, no privilege escalation, no capabilities, a read-only root with
    /tmp an emptyDir, CPU and memory requests and limits."""
    for host_field in ("hostNetwork", "hostPID", "hostIPC"):
        assert host_field not in pod
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert all(set(volume) & {"emptyDir", "configMap", "secret"} for volume in pod["volumes"])  # no hostPath
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    [main] = pod["containers"]
    assert "initContainers" not in pod
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert all("hostPort" not in port for port in main["ports"])
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]
    for bound in ("requests", "limits"):
        assert set(main["resources"][bound]) == {"cpu", "memory"}
    assert main["livenessProbe"] and main["readinessProbe"]


def test_defaults_render_a_cluster_wide_hardened_operator(helm: str) -> None:
    objects = template(helm)
    assert kinds(objects) == [
        "ClusterRole",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "Deployment",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
    ]
    assert env(objects) == {
        "POD_ID": {"fieldRef": {"fieldPath": "metadata.name"}},
        "POD_NAME": {"fieldRef": {"fieldPath": "metadata.name"}},
        "POD_NAMESPACE": {"fieldRef": {"fieldPath": "metadata.namespace"}},
        "CRONFLOW_NAMESPACES": "",
        "CRONFLOW_JOB_IMAGE": "cronflow-job:dev",
        "CRONFLOW_LOG_FORMAT": "json",
        "CRONFLOW_LIVENESS_PORT": "8080",
        "CRONFLOW_READINESS_PORT": "8081",
        "CRONFLOW_METRICS_PORT": "9090",
    }
    deployment = only(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == only(objects, "ServiceAccount")["metadata"]["name"] == "cronflow"
    assert pod["automountServiceAccountToken"] is True
    assert_hardened(pod)
    main = container(objects)
    assert main["image"] == "cronflow-operator:dev"
    assert main["imagePullPolicy"] == "IfNotPresent"
    assert main["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "readyz"}
    assert {"name": "healthz", "containerPort": 8080} in main["ports"]
    assert {"name": "readyz", "containerPort": 8081} in main["ports"]
    assert main["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert all(obj["metadata"].get("namespace", NAMESPACE) == NAMESPACE for obj in objects)


def assert_bound(objects: Objects, kind: str, name: str, rules: list[dict[str, Any]]) -> None:
    """A `kind` (ClusterRole or Role) called `name` with `rules`, bound to the operator's ServiceAccount."""
    role = named(objects, kind, name)
    assert role["rules"] == rules
    binding = named(objects, f"{kind}Binding", name)
    assert binding["metadata"].get("namespace") == role["metadata"].get("namespace")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}
    assert binding["subjects"] == SERVICE_ACCOUNT


def test_cluster_scope_binds_both_rules_files_cluster_wide(helm: str) -> None:
    objects = template(helm)
    assert_bound(objects, "ClusterRole", f"{NAMESPACE}:cronflow", RULES)
    assert_bound(objects, "ClusterRole", f"{NAMESPACE}:cronflow-observer", CLUSTER_RULES)
    assert [obj["metadata"]["name"] for obj in objects if obj["kind"] == "Role"] == [LEASE_ROLE]


def test_cluster_scope_with_watch_namespaces_watches_only_those(helm: str) -> None:
    objects = template(helm, "watchNamespaces={team-a,team-b}")
    assert env(objects)["CRONFLOW_NAMESPACES"] == "team-a,team-b"
    assert_bound(objects, "ClusterRole", f"{NAMESPACE}:cronflow", RULES)


@pytest.mark.parametrize(
    ("values", "watched"),
    [
        (["rbac.scope=namespace"], [NAMESPACE]),
        (["rbac.scope=namespace", "watchNamespaces={team-a,team-b}"], ["team-a", "team-b"]),
    ],
)
def test_namespace_scope_grants_the_rules_only_in_each_watched_namespace(
    helm: str, values: list[str], watched: list[str]
) -> None:
    objects = template(helm, *values)
    assert env(objects)["CRONFLOW_NAMESPACES"] == ",".join(watched)
    roles = [obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] != LEASE_ROLE]
    assert sorted(role["metadata"]["namespace"] for role in roles) == watched
    for namespace in watched:
        in_namespace = [obj for obj in objects if obj["metadata"].get("namespace") == namespace]
        assert_bound(in_namespace, "Role", "cronflow", RULES)
    assert kinds(objects).count("RoleBinding") == len(watched) + 1  # and the lease's
    # Cluster-wide only the observer's reads that kopf needs (namespaces, CRDs).
    assert [obj["metadata"]["name"] for obj in objects if obj["kind"] == "ClusterRole"] == [
        f"{NAMESPACE}:cronflow-observer"
    ]
    assert_bound(objects, "ClusterRole", f"{NAMESPACE}:cronflow-observer", CLUSTER_RULES)
    assert kinds(objects).count("ClusterRoleBinding") == 1


@pytest.mark.parametrize("values", [[], ["rbac.scope=namespace", "watchNamespaces={team-a,team-b}"]])
def test_the_lease_role_grants_only_leases_and_only_in_the_release_namespace(helm: str, values: list[str]) -> None:
    objects = template(helm, *values)
    assert LEASE_RULES == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]}
    ]
    in_release = [obj for obj in objects if obj["metadata"].get("namespace") == NAMESPACE]
    assert_bound(in_release, "Role", LEASE_ROLE, LEASE_RULES)
    assert [obj["metadata"]["namespace"] for obj in objects if obj["metadata"]["name"] == LEASE_ROLE] == [
        NAMESPACE, NAMESPACE
    ]
    # No other role of the operator grants leases.
    others = [obj for obj in objects
              if obj["kind"] in ("Role", "ClusterRole") and obj["metadata"]["name"] != LEASE_ROLE]
    assert not [rule for obj in others for rule in obj["rules"] if "coordination.k8s.io" in rule["apiGroups"]]
    # The identity and the lease's namespace come from the downward API.
    assert env(objects)["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env(objects)["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}


def test_replicas_come_from_values_and_default_to_one(helm: str) -> None:
    assert only(template(helm), "Deployment")["spec"]["replicas"] == 1
    assert only(template(helm, "replicas=2"), "Deployment")["spec"]["replicas"] == 2


def test_cluster_wide_objects_are_named_per_release_namespace(helm: str) -> None:
    """Two releases in different namespaces never claim the same ClusterRole."""
    result = run_helm(helm, "template", "cronflow", str(CHART), "--namespace", "other")
    names = {
        doc["metadata"]["name"] for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] == "ClusterRole"
    }
    assert names == {"other:cronflow", "other:cronflow-observer"}


def test_crd_is_the_generated_one_and_kept_on_uninstall(helm: str) -> None:
    rendered = only(template(helm), "CustomResourceDefinition")
    assert rendered["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert rendered["metadata"]["labels"]["app.kubernetes.io/name"] == "cronflow"
    assert rendered["spec"] == CRD["spec"]
    assert {k: v for k, v in rendered["metadata"].items() if k not in ("annotations", "labels")} == CRD["metadata"]


def test_crds_install_false_renders_no_crd(helm: str) -> None:
    assert "CustomResourceDefinition" not in kinds(template(helm, "crds.install=false"))


def test_metrics_disabled_sets_port_zero_and_renders_no_service(helm: str) -> None:
    objects = template(helm, "metrics.enabled=false")
    assert env(objects)["CRONFLOW_METRICS_PORT"] == "0"
    assert "Service" not in kinds(objects)
    assert [port["name"] for port in container(objects)["ports"]] == ["healthz", "readyz"]


def test_metrics_service_targets_the_metrics_port(helm: str) -> None:
    objects = template(helm, "metrics.port=9100")
    assert env(objects)["CRONFLOW_METRICS_PORT"] == "9100"
    assert {"name": "metrics", "containerPort": 9100} in container(objects)["ports"]
    service = only(objects, "Service")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9100, "targetPort": "metrics"}]
    assert service["spec"]["selector"] == only(objects, "Deployment")["spec"]["selector"]["matchLabels"]


def test_smtp_settings_and_password_from_the_referenced_secret(helm: str) -> None:
    objects = template(
        helm,
        "smtp.host=smtp.example.com",
        "smtp.port=465",
        "smtp.username=cronflow",
        "smtp.from=cron@example.com",
        "smtp.starttls=false",
        "smtp.passwordSecretRef.name=smtp-credentials",
    )
    assert {key: value for key, value in env(objects).items() if key.startswith("CRONFLOW_SMTP_")} == {
        "CRONFLOW_SMTP_HOST": "smtp.example.com",
        "CRONFLOW_SMTP_PORT": "465",
        "CRONFLOW_SMTP_USERNAME": "cronflow",
        "CRONFLOW_SMTP_FROM": "cron@example.com",
        "CRONFLOW_SMTP_STARTTLS": "false",
        "CRONFLOW_SMTP_PASSWORD": {"secretKeyRef": {"name": "smtp-credentials", "key": "password"}},
    }


def test_smtp_without_host_sets_no_smtp_environment(helm: str) -> None:
    objects = template(helm, "smtp.username=x", "smtp.passwordSecretRef.name=s")
    assert not [key for key in env(objects) if key.startswith("CRONFLOW_SMTP_")]


def test_api_server_override_sets_the_service_host_and_port(helm: str) -> None:
    objects = template(helm, "kubernetesServiceHost=192.0.2.10", "kubernetesServicePort=6443")
    pod = only(objects, "Deployment")["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod and "dnsPolicy" not in pod
    assert env(objects)["KUBERNETES_SERVICE_HOST"] == "192.0.2.10"
    assert env(objects)["KUBERNETES_SERVICE_PORT"] == "6443"


def test_host_network_is_no_longer_a_value(helm: str) -> None:
    result = run_helm(helm, "template", "cronflow", str(CHART), "--set", "hostNetwork=true")
    assert result.returncode != 0
    assert "hostNetwork" in result.stderr


def test_images_scheduling_and_annotations_come_from_values(helm: str) -> None:
    objects = template(
        helm,
        "image.repository=registry.example.com/cronflow-operator",
        "image.tag=0.1.0",
        "image.pullPolicy=Always",
        "jobImage.repository=registry.example.com/cronflow-job",
        "jobImage.tag=0.1.0",
        "logFormat=text",
        "nodeSelector.kubernetes\\.io/os=linux",
        "tolerations[0].key=dedicated",
        "tolerations[0].operator=Exists",
        "podAnnotations.example\\.com/team=ops",
    )
    main = container(objects)
    assert main["image"] == "registry.example.com/cronflow-operator:0.1.0"
    assert main["imagePullPolicy"] == "Always"
    assert env(objects)["CRONFLOW_JOB_IMAGE"] == "registry.example.com/cronflow-job:0.1.0"
    assert env(objects)["CRONFLOW_LOG_FORMAT"] == "text"
    template_ = only(objects, "Deployment")["spec"]["template"]
    assert template_["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert template_["spec"]["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert template_["metadata"]["annotations"] == {"example.com/team": "ops"}


DNS_PORTS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
JOB_PODS = {"matchLabels": {names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE}}
WATCHER_PODS = {"matchLabels": {names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE, names.ROLE_LABEL: names.WATCHER_ROLE}}


def policies(objects: Objects) -> dict[tuple[str, str], dict[str, Any]]:
    """The NetworkPolicies by (namespace, name)."""
    found = [obj for obj in objects if obj["kind"] == "NetworkPolicy"]
    return {(obj["metadata"]["namespace"], obj["metadata"]["name"]): obj for obj in found}


def namespaces_named(*namespaces: str) -> dict[str, Any]:
    """A namespaceSelector for these namespaces, by name."""
    return {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": list(namespaces)}]}


def operator_policy(objects: Objects) -> dict[str, Any]:
    return dict(policies(objects)[(NAMESPACE, "cronflow")]["spec"])


def test_network_policy_admits_the_operator_pod_only_on_its_probe_and_metrics_ports(helm: str) -> None:
    objects = template(helm)
    assert list(policies(objects)) == [(NAMESPACE, "cronflow")]
    policy = operator_policy(objects)
    deployment = only(objects, "Deployment")
    assert policy["podSelector"] == {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}
    assert policy["policyTypes"] == ["Ingress"]  # egress stays open by default
    assert "egress" not in policy
    # From anywhere (the kubelet probes from the node), and only to the probe and metrics ports.
    assert policy["ingress"] == [
        {"ports": [{"port": 8080, "protocol": "TCP"}, {"port": 8081, "protocol": "TCP"}]},
        {"ports": [{"port": 9090, "protocol": "TCP"}]},
    ]
    ports = {port["name"]: port["containerPort"] for port in container(objects)["ports"]}
    assert ports == {"healthz": 8080, "readyz": 8081, "metrics": 9090}
    assert only(objects, "Service")["spec"]["ports"][0]["port"] == 9090


def test_network_policy_follows_the_metrics_port_and_its_allowed_sources(helm: str) -> None:
    objects = template(
        helm, "metrics.port=9100", "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.team=monitoring"
    )
    assert operator_policy(objects)["ingress"] == [
        {"ports": [{"port": 8080, "protocol": "TCP"}, {"port": 8081, "protocol": "TCP"}]},
        {
            "ports": [{"port": 9100, "protocol": "TCP"}],
            "from": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
        },
    ]
    assert operator_policy(template(helm, "metrics.enabled=false"))["ingress"] == [
        {"ports": [{"port": 8080, "protocol": "TCP"}, {"port": 8081, "protocol": "TCP"}]}
    ]


@pytest.mark.parametrize(
    ("values", "namespace_selector"),
    [
        ([], {}),  # the whole cluster
        (["watchNamespaces={team-a,team-b}"], namespaces_named("team-a", "team-b")),
        (["rbac.scope=namespace"], namespaces_named(NAMESPACE)),
    ],
)
def test_restricted_operator_egress_allows_dns_the_watchers_and_the_listed_rules(
    helm: str, values: list[str], namespace_selector: dict[str, Any]
) -> None:
    objects = template(
        helm,
        *values,
        "networkPolicy.restrictEgress=true",
        "networkPolicy.egress[0].to[0].ipBlock.cidr=192.0.2.10/32",
        "networkPolicy.egress[0].ports[0].port=6443",
    )
    policy = operator_policy(objects)
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["egress"] == [
        {"ports": DNS_PORTS},
        {
            "to": [{"podSelector": WATCHER_PODS, "namespaceSelector": namespace_selector}],
            "ports": [{"port": watcher.PORT, "protocol": "TCP"}],
        },
        {"to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}], "ports": [{"port": 6443}]},
    ]


def test_network_policy_disabled_renders_none(helm: str) -> None:
    objects = template(helm, "networkPolicy.enabled=false")
    assert "NetworkPolicy" not in kinds(objects)


@pytest.mark.parametrize(
    ("values", "watched"),
    [
        (["rbac.scope=namespace"], [NAMESPACE]),
        (["watchNamespaces={team-a,team-b}"], ["team-a", "team-b"]),
        (["jobNetworkPolicy.namespaces={team-c}"], ["team-c"]),
        (["watchNamespaces={team-a,team-b}", "jobNetworkPolicy.namespaces={team-a}"], ["team-a"]),
    ],
)
def test_job_network_policy_limits_the_job_pods_egress_in_each_namespace(
    helm: str, values: list[str], watched: list[str]
) -> None:
    objects = template(
        helm,
        *values,
        "jobNetworkPolicy.enabled=true",
        "jobNetworkPolicy.egress[0].to[0].namespaceSelector.matchLabels.team=flows",
        "jobNetworkPolicy.egress[0].ports[0].port=8080",
        "jobNetworkPolicy.egress[0].ports[0].protocol=TCP",
    )
    jobs = {key: policy["spec"] for key, policy in policies(objects).items() if key[1] == "cronflow-jobs"}
    assert sorted(namespace for namespace, _ in jobs) == watched
    for spec in jobs.values():
        assert spec == {
            "podSelector": JOB_PODS,
            "policyTypes": ["Egress"],
            "egress": [
                {"ports": DNS_PORTS},
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"team": "flows"}}}],
                    "ports": [{"port": 8080, "protocol": "TCP"}],
                },
            ],
        }
    # It selects the pods the operator creates, never the operator's own pod.
    operator_labels = only(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert operator_labels[names.MANAGED_BY_LABEL] != names.MANAGED_BY_VALUE


def test_job_network_policy_dns_may_be_limited_and_is_off_by_default(helm: str) -> None:
    assert list(policies(template(helm, "watchNamespaces={team-a}"))) == [(NAMESPACE, "cronflow")]
    objects = template(
        helm,
        "watchNamespaces={team-a}",
        "networkPolicy.enabled=false",
        "jobNetworkPolicy.enabled=true",
        "jobNetworkPolicy.dnsTo[0].podSelector.matchLabels.k8s-app=kube-dns",
        "jobNetworkPolicy.dnsTo[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=kube-system",
    )
    assert list(policies(objects)) == [("team-a", "cronflow-jobs")]
    assert policies(objects)[("team-a", "cronflow-jobs")]["spec"]["egress"] == [
        {
            "ports": DNS_PORTS,
            "to": [
                {
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                }
            ],
        }
    ]


def test_job_network_policy_for_a_cluster_wide_operator_needs_its_namespaces(helm: str) -> None:
    result = run_helm(
        helm, "template", "cronflow", str(CHART), "--namespace", NAMESPACE, "--set", "jobNetworkPolicy.enabled=true"
    )
    assert result.returncode != 0
    assert "list the job pods' namespaces in jobNetworkPolicy.namespaces" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("logFormat=banana", "at '/logFormat': value must be one of 'json', 'text'"),
        ("rbac.scope=world", "at '/rbac/scope': value must be one of 'cluster', 'namespace'"),
        ("smtp.port=-1", "at '/smtp/port': minimum: got -1, want 1"),
        ("metrics.port=70000", "at '/metrics/port': maximum"),
        ("kubernetesServicePort=-5", "at '/kubernetesServicePort'"),
        ("image.pullPolicy=Sometimes", "at '/image/pullPolicy': value must be one of"),
        ("watchNamespaces={Team_A}", "at '/watchNamespaces/0'"),
        ("crds.install=maybe", "at '/crds/install': got string, want boolean"),
        ("replicas=-1", "at '/replicas': minimum: got -1, want 0"),
        ("replicas=two", "at '/replicas': got string, want integer"),
        ("smtp.password=hunter2", "additional properties 'password' not allowed"),
        ("networkPolicy.restrictEgress=yes", "at '/networkPolicy/restrictEgress': got string, want boolean"),
        ("jobNetworkPolicy.egress[0].too[0].ipBlock.cidr=10.0.0.0/8", "additional properties 'too' not allowed"),
        ("jobNetworkPolicy.egress[0].ports[0].protocol=ICMP", "value must be one of 'TCP', 'UDP', 'SCTP'"),
        ("jobNetworkPolicy.namespaces={Team_A}", "at '/jobNetworkPolicy/namespaces/0'"),
        ("gateway.enabled=yes", "at '/gateway/enabled': got string, want boolean"),
        ("gateway.port=80", "at '/gateway/port': minimum: got 80, want 1,024"),
        ("gateway.port=70000", "at '/gateway/port': maximum"),
        ("gateway.service.port=0", "at '/gateway/service/port': minimum: got 0, want 1"),
        ("gateway.service.type=ExternalName", "at '/gateway/service/type': value must be one of"),
        ("gateway.replicas=0", "at '/gateway/replicas': minimum: got 0, want 1"),
        ("gateway.flowEndpoint=ftp://flows.example.com/run", "at '/gateway/flowEndpoint'"),
        ("gateway.flowEndpoint=flows.example.com", "at '/gateway/flowEndpoint'"),
        ("gateway.flowEndpoint=https://user:secret@flows.example.com/run", "at '/gateway/flowEndpoint'"),
        ("gateway.namespace=Team_A", "at '/gateway/namespace'"),
        ("gateway.spoolClaim=Inbox_Claim", "at '/gateway/spoolClaim'"),
        ("gateway.resources.limits.cpu=lots", "at '/gateway/resources/limits/cpu'"),
        ("gateway.networkPolicy.from[0].podSelectr.app=x", "additional properties 'podSelectr' not allowed"),
        ("gateway.token=x", "additional properties 'token' not allowed"),
    ],
)
def test_invalid_values_fail_with_the_schema_message(helm: str, value: str, message: str) -> None:
    result = run_helm(helm, "template", "cronflow", str(CHART), "--set", value)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_helm_lint_is_clean(helm: str) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART))
    assert result.returncode == 0, result.stdout + result.stderr


def test_manifests_and_chart_crd_copy_match_what_render_manifests_renders(helm: str) -> None:
    result = subprocess.run(
        [str(REPO / "hack" / "render-manifests"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"run hack/render-manifests:\n{result.stdout}{result.stderr}"


def test_manifests_hold_the_namespace_first_and_the_default_release(helm: str) -> None:
    objects = [doc for doc in yaml.safe_load_all((REPO / "manifests" / "cronflow.yaml").read_text()) if doc]
    assert objects[0] == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    assert objects[1:] == template(helm)


GATEWAY = "cronflow-api"
FLOW_ENDPOINT = "https://flows.example.com/api/v1/flow/run_binary_async"
GATEWAY_ON = ("gateway.enabled=true", f"gateway.flowEndpoint={FLOW_ENDPOINT}")


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether a matchLabels selector selects these labels."""
    return all(labels.get(key) == value for key, value in selector.items())


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def gateway_container(objects: Objects) -> dict[str, Any]:
    [found] = named(objects, "Deployment", GATEWAY)["spec"]["template"]["spec"]["containers"]
    return dict(found)


def gateway_env(objects: Objects) -> dict[str, Any]:
    return {item["name"]: item["value"] for item in gateway_container(objects)["env"]}


@pytest.mark.parametrize("values", [[], [f"gateway.flowEndpoint={FLOW_ENDPOINT}", "gateway.spoolClaim=inbox"]])
def test_gateway_is_off_by_default_and_renders_nothing(helm: str, values: list[str]) -> None:
    objects = template(helm, *values)
    assert objects == template(helm)
    assert not [obj for obj in objects if GATEWAY in obj["metadata"]["name"]]
    assert not [
        obj for obj in objects if obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "gateway"
    ]


def test_gateway_adds_a_service_account_deployment_service_and_network_policy_only(helm: str) -> None:
    default, enabled = template(helm), template(helm, *GATEWAY_ON)
    added = [obj for obj in enabled if obj not in default]
    assert kinds(added) == ["Deployment", "NetworkPolicy", "Service", "ServiceAccount"]
    assert {obj["metadata"]["name"] for obj in added} == {GATEWAY}
    assert all(obj["metadata"]["namespace"] == NAMESPACE for obj in added)
    assert all(obj["metadata"]["labels"]["app.kubernetes.io/component"] == "gateway" for obj in added)
    assert [obj for obj in default if obj not in enabled] == []  # the operator's objects do not change


def test_gateway_service_account_has_no_rights_and_mounts_no_token(helm: str) -> None:
    objects = template(helm, *GATEWAY_ON, "rbac.scope=namespace")
    account = named(objects, "ServiceAccount", GATEWAY)
    assert account["automountServiceAccountToken"] is False
    bindings = [obj for obj in objects if obj["kind"] in ("RoleBinding", "ClusterRoleBinding")]
    assert bindings  # the operator's
    for binding in bindings:
        assert binding["subjects"] == SERVICE_ACCOUNT
    assert not [obj for obj in objects if obj["kind"] in ("Role", "ClusterRole") and GATEWAY in obj["metadata"]["name"]]
    pod = named(objects, "Deployment", GATEWAY)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == GATEWAY
    assert pod["automountServiceAccountToken"] is False
    # The API server's CA only, where the gateway looks for it (cronflow.gateway.access): no token file.
    assert {
        "name": "api-ca",
        "configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
    } in pod["volumes"]
    mount = {"name": "api-ca", "mountPath": str(Path(access.IN_CLUSTER_CA).parent), "readOnly": True}
    assert mount in gateway_container(objects)["volumeMounts"]
    assert not [volume for volume in pod["volumes"] if "projected" in volume or "secret" in volume]


def test_gateway_deployment_is_hardened_like_the_operator(helm: str) -> None:
    objects = template(helm, *GATEWAY_ON)
    deployment = named(objects, "Deployment", GATEWAY)
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert_hardened(pod)
    main = gateway_container(objects)
    assert main["image"] == container([named(objects, "Deployment", "cronflow")])["image"] == "cronflow-operator:dev"
    assert main["command"] == ["python3", "-m", "cronflow.gateway"]
    assert main["ports"] == [{"name": "http", "containerPort": 8000}]
    assert main["livenessProbe"]["httpGet"] == main["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["resources"] == {
        "requests": {"cpu": "50m", "memory": "96Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_gateway_environment_is_the_gateways_settings(helm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    objects = template(
        helm,
        *GATEWAY_ON,
        "gateway.namespace=team-a",
        "gateway.port=8080",
        "gateway.spoolClaim=inbox",
        "gateway.dashboardNamespaces={team-b,team-c}",
        "logFormat=text",
        "kubernetesServiceHost=192.0.2.10",
        "kubernetesServicePort=6443",
    )
    found = gateway_env(objects)
    assert found == {
        "CRONFLOW_API_NAMESPACE": "team-a",
        "CRONFLOW_API_PORT": "8080",
        "CRONFLOW_API_FLOW_ENDPOINT": FLOW_ENDPOINT,
        "CRONFLOW_API_SPOOL_CLAIM": "inbox",
        "CRONFLOW_API_DASHBOARD_NAMESPACES": "team-b,team-c",
        "CRONFLOW_API_LOG_FORMAT": "text",
        "KUBERNETES_SERVICE_HOST": "192.0.2.10",
        "KUBERNETES_SERVICE_PORT": "6443",
    }
    assert gateway_container(objects)["ports"] == [{"name": "http", "containerPort": 8080}]
    # Every CRONFLOW_API_* name is a setting of the gateway, which reads these values as given.
    prefix = GatewaySettings.model_config["env_prefix"]
    for name, value in found.items():
        if name.startswith(prefix):
            assert name.removeprefix(prefix).lower() in GatewaySettings.model_fields
        monkeypatch.setenv(name, value)
    settings = GatewaySettings()
    assert (settings.namespace, settings.port, settings.flow_endpoint, settings.spool_claim, settings.log_format) == (
        "team-a",
        8080,
        FLOW_ENDPOINT,
        "inbox",
        "text",
    )
    assert settings.dashboard_namespaces == ["team-b", "team-c"]


def test_gateway_defaults_to_the_release_namespace_and_no_spool_claim(helm: str) -> None:
    assert gateway_env(template(helm, *GATEWAY_ON)) == {
        "CRONFLOW_API_NAMESPACE": NAMESPACE,
        "CRONFLOW_API_PORT": "8000",
        "CRONFLOW_API_FLOW_ENDPOINT": FLOW_ENDPOINT,
        "CRONFLOW_API_LOG_FORMAT": "json",
    }


def test_gateway_and_operator_select_only_their_own_pods(helm: str) -> None:
    objects = template(helm, *GATEWAY_ON)
    operator, gateway = named(objects, "Deployment", "cronflow"), named(objects, "Deployment", GATEWAY)
    operator_selector = operator["spec"]["selector"]["matchLabels"]
    gateway_selector = gateway["spec"]["selector"]["matchLabels"]
    assert selects(operator_selector, pod_labels(operator)) and not selects(operator_selector, pod_labels(gateway))
    assert selects(gateway_selector, pod_labels(gateway)) and not selects(gateway_selector, pod_labels(operator))
    # The operator's metrics Service and NetworkPolicy leave the gateway's pods alone, and the reverse.
    assert not selects(named(objects, "Service", "cronflow-metrics")["spec"]["selector"], pod_labels(gateway))
    assert not selects(operator_policy(objects)["podSelector"]["matchLabels"], pod_labels(gateway))
    service = named(objects, "Service", GATEWAY)["spec"]
    assert service["selector"] == gateway_selector
    assert not selects(service["selector"], pod_labels(operator))
    assert service["type"] == "ClusterIP"
    assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    policy = policies(objects)[(NAMESPACE, GATEWAY)]["spec"]
    assert policy["podSelector"] == {"matchLabels": gateway_selector}
    assert not selects(policy["podSelector"]["matchLabels"], pod_labels(operator))


def test_a_stopping_gateway_pod_keeps_serving_while_service_routing_catches_up(helm: str) -> None:
    assert gateway_container(template(helm, *GATEWAY_ON))["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert "lifecycle" not in gateway_container(template(helm, *GATEWAY_ON, "gateway.shutdownDelaySeconds=0"))


def test_gateway_service_type_and_port_come_from_values(helm: str) -> None:
    objects = template(helm, *GATEWAY_ON, "gateway.service.type=LoadBalancer", "gateway.service.port=8443")
    service = named(objects, "Service", GATEWAY)["spec"]
    assert (service["type"], service["ports"][0]["port"], service["ports"][0]["targetPort"]) == (
        "LoadBalancer",
        8443,
        "http",
    )


def test_gateway_without_flow_endpoint_fails_saying_so(helm: str) -> None:
    result = run_helm(helm, "template", "cronflow", str(CHART), "--set", "gateway.enabled=true")
    assert result.returncode != 0
    assert "gateway.flowEndpoint is required with gateway.enabled" in result.stderr


def test_gateway_network_policy_admits_its_port_and_lets_out_only_dns_and_the_api_server(helm: str) -> None:
    policy = policies(template(helm, *GATEWAY_ON))[(NAMESPACE, GATEWAY)]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["ingress"] == [{"ports": [{"port": 8000, "protocol": "TCP"}]}]  # from anywhere
    assert policy["egress"] == [
        {"ports": DNS_PORTS},
        {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]},
    ]


def test_gateway_network_policy_follows_its_callers_port_dns_and_api_server_port(helm: str) -> None:
    objects = template(
        helm,
        *GATEWAY_ON,
        "gateway.port=8080",
        "gateway.networkPolicy.from[0].namespaceSelector.matchLabels.team=a",
        "networkPolicy.dnsTo[0].podSelector.matchLabels.k8s-app=kube-dns",
        "kubernetesServicePort=8443",
    )
    policy = policies(objects)[(NAMESPACE, GATEWAY)]["spec"]
    assert policy["ingress"] == [
        {"ports": [{"port": 8080, "protocol": "TCP"}], "from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}
    ]
    assert policy["egress"] == [
        {"ports": DNS_PORTS, "to": [{"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}]},
        {
            "ports": [
                {"port": 443, "protocol": "TCP"},
                {"port": 6443, "protocol": "TCP"},
                {"port": 8443, "protocol": "TCP"},
            ]
        },
    ]
    # A port already listed is not repeated.
    policy = policies(template(helm, *GATEWAY_ON, "kubernetesServicePort=6443"))[(NAMESPACE, GATEWAY)]["spec"]
    assert policy["egress"][1] == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}


def test_gateway_network_policy_only_with_network_policy_enabled(helm: str) -> None:
    objects = template(helm, *GATEWAY_ON, "networkPolicy.enabled=false")
    assert "NetworkPolicy" not in kinds(objects)
    assert "Deployment" in kinds([obj for obj in objects if obj["metadata"]["name"] == GATEWAY])


def test_gateway_helm_lint_is_clean(helm: str) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART), *(arg for value in GATEWAY_ON for arg in ("--set", value)))
    assert result.returncode == 0, result.stdout + result.stderr
