"""`hack/cluster down` leaves nothing behind (processes, mounts, bridge, cgroups, iptables chains), and `up`
works again after it.

Runs on its own after the other tiers (hack/test), since it stops the shared cluster.
"""

import subprocess
from pathlib import Path

import pytest

from tests.support.cluster import hack_cluster, hack_cluster_env

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
              "containerd-shim", "containerd --config", "kube-proxy", "coredns")

pytestmark = pytest.mark.lifecycle


def state_dir() -> Path:
    return Path(hack_cluster("kubeconfig")).parent


def leftovers() -> list[str]:
    found = []
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    found += [p for p in procs if any(p.startswith(c) or f"/{c}" in p.split(" ")[0] for c in COMPONENTS)]
    mounts = Path("/proc/mounts").read_text().splitlines()
    found += [m for m in mounts if str(state_dir()) in m]
    if subprocess.run(["ip", "link", "show", "cronflow0"], capture_output=True).returncode == 0:
        found.append("bridge cronflow0")
    found += [f"cgroup {p}" for p in Path("/sys/fs/cgroup").glob("*/kubepods")]
    found += [f"iptables {chain}" for chain in kube_chains()]
    return found


def kube_chains() -> list[str]:
    """The KUBE-* chains (kube-proxy's and the kubelet's) in every table, IPv4 and IPv6."""
    chains = []
    for save in ("iptables-save", "ip6tables-save"):
        dump = subprocess.run([save], capture_output=True, text=True, check=True).stdout
        chains += [f"{save}: {line}" for line in dump.splitlines() if line.startswith(":KUBE-")]
    return chains


def test_down_leaves_no_process_mount_bridge_or_cgroup_and_up_works_again() -> None:
    hack_cluster("up", "--with-node")
    assert any(":KUBE-SERVICES " in chain for chain in kube_chains()), "kube-proxy did not program its rules"
    hack_cluster("down")
    assert leftovers() == []
    kubeconfig = hack_cluster("up").splitlines()[-1]
    ready = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"],
                           capture_output=True, text=True, env=hack_cluster_env())
    assert ready.stdout == "ok"
    hack_cluster("down")
    assert leftovers() == []
