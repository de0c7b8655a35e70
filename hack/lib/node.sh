# shellcheck shell=bash
# One node: its own containerd (socket and state under $STATE_DIR), CNI bridge, kubelet.
# Sourced by hack/cluster after hack/lib/globals.sh; log(), die() from hack/cluster, start() and
# wait_for() from hack/lib/procs.sh, ensure_pause_image() from hack/lib/images.sh, start_network() from
# hack/lib/network.sh.
# Globals: STATE_DIR PKI_DIR CONTAINERD_DIR CONTAINERD_SOCK KUBELET_DIR CNI_BRIDGE POD_SUBNET POD_GATEWAY
# Globals: PAUSE_IMAGE IMAGE_CACHE CLUSTER_DNS_IP CLUSTER_DOMAIN SERVICE_CIDR

ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

write_containerd_config() {
  mkdir -p "$CONTAINERD_DIR" "$STATE_DIR/cni/net.d"
  cat >"$CONTAINERD_DIR/config.toml" <<EOF
version = 2
root = "$CONTAINERD_DIR/root"
state = "$CONTAINERD_DIR/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CONTAINERD_DIR/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The VM lacks CAP_SYS_RESOURCE: without this every sandbox fails in runc create.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
EOF
  # ipMasq off and no default route: pods reach the host (the gateway address), each other and the
  # Service ClusterIPs (routed through the gateway, where kube-proxy's rules apply), nothing beyond.
  cat >"$STATE_DIR/cni/net.d/10-cronflow.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "cronflow", "plugins": [
  {"type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$STATE_DIR/cni/ipam",
            "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$POD_GATEWAY"}]],
            "routes": [{"dst": "$SERVICE_CIDR"}]}}
]}
EOF
}

write_kubelet_config() {
  mkdir -p "$KUBELET_DIR"
  cat >"$KUBELET_DIR/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/node.crt
tlsPrivateKeyFile: $PKI_DIR/node.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
podLogsDir: $STATE_DIR/pod-logs
resolvConf: /etc/resolv.conf
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
maxPods: 110
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
}

# The bridge exists before the first pod so test servers can listen on the pod gateway address.
ensure_bridge() {
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 || ip link add "$CNI_BRIDGE" type bridge
  local addrs
  addrs=$(ip -o -4 addr show dev "$CNI_BRIDGE")
  [[ $addrs == *"inet $POD_GATEWAY/"* ]] || ip addr add "$POD_GATEWAY/24" dev "$CNI_BRIDGE"
  ip link set "$CNI_BRIDGE" up
}

node_ready() {
  [[ $(kubectl --kubeconfig "$STATE_DIR/kubeconfig" get node localhost \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

start_node() {
  if ! command -v containerd >/dev/null || [[ ! -x /usr/lib/cni/bridge ]]; then
    die "node needs containerd and CNI plugins: apt-get install containerd runc containernetworking-plugins"
  fi
  command -v conntrack >/dev/null || die "kube-proxy needs conntrack: apt-get install conntrack (hack/setup node)"
  write_containerd_config
  write_kubelet_config
  ensure_bridge
  start containerd containerd --config "$CONTAINERD_DIR/config.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
  if ! ctr_k8s images check "name==$PAUSE_IMAGE" | grep "$PAUSE_IMAGE" >/dev/null; then
    ensure_pause_image
    log "importing $PAUSE_IMAGE into the node"
    ctr_k8s images import "$IMAGE_CACHE/pause.tar" >/dev/null
  fi
  start kubelet kubelet --config "$KUBELET_DIR/config.yaml" --kubeconfig "$PKI_DIR/node.kubeconfig" \
    --root-dir "$KUBELET_DIR" --hostname-override localhost --v 0
  wait_for "node localhost" 120 node_ready
  start_network
}

# Kills what pods left behind (shims, containers), unmounts kubelet and containerd mounts,
# removes the bridge, the CNI network namespaces and the pod cgroups.
clean_node() {
  local pid m ns d pids
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [[ -d $d ]] || continue
    mapfile -t pids < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
    if ((${#pids[@]})); then kill -KILL "${pids[@]}" 2>/dev/null || true; fi
  done
  sleep 0.5
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep -E "^($STATE_DIR|/run/containerd/io.containerd.*$CONTAINERD_DIR)" || true)
  while read -r m; do
    [[ -z $m ]] || umount -l "$m" 2>/dev/null || true
  done < <(sort -r <<<"$mounts")
  for ns in /var/run/netns/cni-*; do
    [[ -e $ns ]] || continue
    umount "$ns" 2>/dev/null || true
    rm -f "$ns"
  done
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && ip link del "$CNI_BRIDGE"
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    if [[ -d $d ]]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
  rm -rf "$STATE_DIR/cni/ipam"
}
