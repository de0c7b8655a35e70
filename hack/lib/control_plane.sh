# shellcheck shell=bash
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler on loopback.
# Sourced by hack/cluster after hack/lib/globals.sh; start() and wait_for() from hack/lib/procs.sh.
# Globals: STATE_DIR PKI_DIR AUDIT_LOG APISERVER_PORT ETCD_PORT POD_GATEWAY SERVICE_CIDR CONTROL_PLANE_BIN_DIR
# Globals: CONTROL_PLANE_VERSION

write_audit_policy() {
  # Requests by the control plane and the node are left out, so the log shows what clients
  # (the operator, tests) asked for; tests and benchmarks count operator writes from it.
  cat >"$STATE_DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-controller-manager, system:kube-scheduler, system:apiserver,
          system:node:localhost, kube-apiserver-kubelet-client, system:kube-proxy, system:coredns]
- level: None
  userGroups: [system:nodes, system:serviceaccounts:kube-system]
- level: None
  nonResourceURLs: ["/readyz*", "/livez*", "/healthz*", "/version"]
- level: Metadata
EOF
}

apiserver_ready() { kubectl --kubeconfig "$STATE_DIR/kubeconfig" get --raw /readyz; }

# The API server listens on every address and advertises the pod gateway (the bridge exists before it
# starts): the `kubernetes` Service's endpoint, which pods reach through kube-proxy.
start_control_plane() {
  local pki=$PKI_DIR running_version
  running_version=$(cat "$STATE_DIR/run/control-plane.version" 2>/dev/null || true)
  if running kube-apiserver && [[ -n $running_version && $running_version != "$CONTROL_PLANE_VERSION" ]]; then
    die "the running control plane is $running_version, not $CONTROL_PLANE_VERSION: hack/cluster down first"
  fi
  mkdir -p "$STATE_DIR/run"
  echo "$CONTROL_PLANE_VERSION" >"$STATE_DIR/run/control-plane.version"
  mkdir -p "$STATE_DIR/etcd"
  start etcd etcd --name local --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "local=http://127.0.0.1:$((ETCD_PORT + 1))" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  write_audit_policy
  start kube-apiserver "$CONTROL_PLANE_BIN_DIR/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 0.0.0.0 --secure-port "$APISERVER_PORT" --advertise-address "$POD_GATEWAY" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --enable-admission-plugins OwnerReferencesPermissionEnforcement \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types Hostname \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --audit-policy-file "$STATE_DIR/audit-policy.yaml" --audit-log-path "$AUDIT_LOG" \
    --audit-log-format json --audit-log-maxsize 512 --audit-log-maxbackup 2 \
    --profiling=false --v 0
  wait_for kube-apiserver 120 apiserver_ready
  start kube-controller-manager "$CONTROL_PLANE_BIN_DIR/kube-controller-manager" \
    --kubeconfig "$pki/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$pki/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$pki/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --controllers '*' --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" --v 0
  start kube-scheduler "$CONTROL_PLANE_BIN_DIR/kube-scheduler" \
    --kubeconfig "$pki/scheduler.kubeconfig" \
    --authentication-kubeconfig "$pki/scheduler.kubeconfig" \
    --authorization-kubeconfig "$pki/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --v 0
  wait_for "default service account" 60 \
    kubectl --kubeconfig "$STATE_DIR/kubeconfig" -n default get serviceaccount default
}
