# shellcheck shell=bash
# The node's Service network: kube-proxy (iptables mode) and CoreDNS, both host processes like the
# kubelet; the kube-dns Service in front of CoreDNS; the check that a pod reaches a ClusterIP by name;
# and the removal of every iptables chain the node added (kube-proxy's and the kubelet's KUBE-*).
# Sourced by hack/cluster after hack/lib/globals.sh; log(), die() from hack/cluster, start(), running(),
# pid_of() and wait_for() from hack/lib/procs.sh.
# Globals: STATE_DIR PKI_DIR BIN_DIR POD_SUBNET POD_GATEWAY CLUSTER_DNS_IP CLUSTER_DOMAIN COREDNS_DIR
# Globals: KUBE_PROXY_DIR PAUSE_IMAGE

kubectl_admin() { kubectl --kubeconfig "$STATE_DIR/kubeconfig" "$@"; }

start_kube_proxy() {
  # A running kube-proxy exits when its configuration file changes: leave both alone.
  if running kube-proxy; then log "kube-proxy already running (pid $(pid_of kube-proxy))"; return; fi
  mkdir -p "$KUBE_PROXY_DIR"
  # conntrack limits and timeouts 0: kube-proxy leaves the host's sysctls as they are; no localhost
  # NodePorts: it does not turn on route_localnet either.
  cat >"$KUBE_PROXY_DIR/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $POD_SUBNET
hostnameOverride: localhost
bindAddress: 127.0.0.1
nodePortAddresses: ["$POD_GATEWAY/32"]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clientConnection: {kubeconfig: $PKI_DIR/kube-proxy.kubeconfig}
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 0s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  start kube-proxy kube-proxy --config "$KUBE_PROXY_DIR/config.yaml" --v 0
  wait_for kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz
}

# CoreDNS on the pod gateway address (port 53), behind the kube-dns Service at $CLUSTER_DNS_IP: the
# cluster domain from the API server, every other name from the host's resolver.
start_coredns() {
  mkdir -p "$COREDNS_DIR"
  cat >"$COREDNS_DIR/Corefile" <<EOF
.:53 {
    bind $POD_GATEWAY
    errors
    health 127.0.0.1:18053
    ready 127.0.0.1:18054
    kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
        kubeconfig $PKI_DIR/coredns.kubeconfig cronflow-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 5
    loop
}
EOF
  kubectl_admin apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns"}
EOF
  start coredns "$BIN_DIR/coredns" -conf "$COREDNS_DIR/Corefile"
  wait_for coredns 60 curl -fsS http://127.0.0.1:18054/ready
  # A Service without a selector and its EndpointSlice (not the endpointslice controller's): the host
  # process is its one endpoint, as a CoreDNS pod would be.
  kubectl_admin apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: CoreDNS}
spec:
  clusterIP: $CLUSTER_DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-host
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: cronflow.local}
addressType: IPv4
endpoints:
- addresses: [$POD_GATEWAY]
  conditions: {ready: true}
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

# A pod resolves the API server's Service name through the kube-dns ClusterIP and gets an answer
# from the API server through the `kubernetes` ClusterIP (busybox of the pause image: nslookup, and nc
# for a plain HTTP request, which the API server's TLS port answers with a 400 that says so: busybox's
# own TLS client crashes).
network_check() {
  local pod=cluster-network-check
  kubectl_admin -n kube-system delete pod "$pod" --ignore-not-found --wait=false >/dev/null
  kubectl_admin -n kube-system apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $pod, namespace: kube-system}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 0
  containers:
  - name: check
    image: $PAUSE_IMAGE
    imagePullPolicy: Never
    command: [/bin/busybox, sh, -c]
    args:
    - >-
      until /bin/busybox nslookup kubernetes.default.svc.$CLUSTER_DOMAIN &&
      printf 'GET / HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 3 kubernetes.default.svc 443 |
      /bin/busybox grep 'HTTP request to an HTTPS server';
      do /bin/busybox sleep 0.5; done
EOF
  local t0=$SECONDS
  until [[ $(kubectl_admin -n kube-system get pod "$pod" -o 'jsonpath={.status.phase}') == Succeeded ]]; do
    if ((SECONDS - t0 > 90)); then
      kubectl_admin -n kube-system logs "$pod" --tail 20 >&2 || true
      die "no pod reached the kubernetes Service by name after 90 s: see $STATE_DIR/logs/{kube-proxy,coredns}.log"
    fi
    sleep 0.5
  done
  log "a pod resolved kubernetes.default.svc.$CLUSTER_DOMAIN and reached the API server's ClusterIP after $((SECONDS - t0)) s"
  kubectl_admin -n kube-system delete pod "$pod" --wait=false >/dev/null
}

# start_network: kube-proxy, CoreDNS and the kube-dns Service; returns once a pod reaches both.
start_network() {
  start_kube_proxy
  start_coredns
  network_check
}

# Removes every KUBE-* chain and every rule that jumps to one, from each table that has them: what
# kube-proxy and the kubelet add. Each table is rewritten in one iptables-restore, the rest kept.
remove_kube_iptables() {
  local save restore table dump
  for save in iptables-save ip6tables-save; do
    command -v "$save" >/dev/null || continue
    restore=${save%-save}-restore
    for table in filter nat mangle raw; do
      dump=$("$save" -t "$table" 2>/dev/null) || continue
      grep -q 'KUBE-' <<<"$dump" || continue
      grep -v 'KUBE-' <<<"$dump" | "$restore" -T "$table" || die "$restore: could not remove the KUBE-* chains of $table"
      log "removed the KUBE-* chains of $table (${save%-save})"
    done
  done
}
