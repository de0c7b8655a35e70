# shellcheck shell=bash
# The variables that hack/cluster and its hack/lib/*.sh files share, defined here and nowhere else:
# the pins, cache and state paths, ports, the node's network and the local image names. Sourced first
# by hack/cluster (also by hack/images and hack/demo for CACHE_DIR); assignments only, no side effects.
# Each hack/lib file names the ones it reads in its "Globals:" header line (tests/unit/test_shell.py
# checks that those lines are complete and that every name is defined here).
# shellcheck disable=SC2034  # the variables are read by the files that source this one
# shellcheck source-path=SCRIPTDIR

source "$(dirname "${BASH_SOURCE[0]}")/../versions.env"  # K8S_VERSION K8S_NEWEST_VERSION ETCD_VERSION HELM_VERSION COREDNS_VERSION

# Caches (kept across clusters) and the cluster's state (reset by `hack/cluster down`).
CACHE_DIR=${CRONFLOW_CACHE:-$HOME/.cache/cronflow}
BIN_DIR=$CACHE_DIR/k8s/$K8S_VERSION/bin
# The control plane's version: K8S_VERSION, or with CRONFLOW_CONTROL_PLANE=newest K8S_NEWEST_VERSION
# (hack/cluster refuses other values).
CONTROL_PLANE_VERSION=$K8S_VERSION
[[ ${CRONFLOW_CONTROL_PLANE:-pinned} != newest ]] || CONTROL_PLANE_VERSION=$K8S_NEWEST_VERSION
CONTROL_PLANE_BIN_DIR=$CACHE_DIR/k8s/$CONTROL_PLANE_VERSION/bin
IMAGE_CACHE=$CACHE_DIR/images
STATE_DIR=${CRONFLOW_CLUSTER_DIR:-$CACHE_DIR/cluster}
PKI_DIR=$STATE_DIR/pki
AUDIT_LOG=$STATE_DIR/logs/audit.log

# The control plane, on loopback.
APISERVER_PORT=${CRONFLOW_APISERVER_PORT:-6443}
ETCD_PORT=${CRONFLOW_ETCD_PORT:-2379}

# The node: its containerd and kubelet, the CNI bridge and the pod network.
CONTAINERD_DIR=$STATE_DIR/containerd
CONTAINERD_SOCK=$CONTAINERD_DIR/containerd.sock
KUBELET_DIR=$STATE_DIR/kubelet
CNI_BRIDGE=cronflow0
POD_SUBNET=10.244.0.0/24
POD_GATEWAY=10.244.0.1

# Services: kube-proxy (iptables mode) routes ClusterIPs, CoreDNS answers for the cluster domain.
SERVICE_CIDR=10.0.0.0/24
CLUSTER_DNS_IP=10.0.0.10
CLUSTER_DOMAIN=cluster.local
COREDNS_DIR=$STATE_DIR/coredns
KUBE_PROXY_DIR=$STATE_DIR/kube-proxy

# Local images (no registry): the node's pause image and the base image of the project's images.
PAUSE_IMAGE=cronflow.local/pause:3.10
BASE_IMAGE=cronflow.local/base:bookworm-py3
BASE_PACKAGES=python3,python3-requests,ca-certificates
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
