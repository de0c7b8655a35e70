# shellcheck shell=bash
# Fresh PKI for the local cluster: one CA, serving certs, client certs and the service-account key.
# Sourced by hack/cluster after hack/lib/globals.sh; writes into $PKI_DIR; log() from hack/cluster.
# Globals: PKI_DIR STATE_DIR APISERVER_PORT POD_GATEWAY

# sign NAME SUBJECT [SAN]: a key and a CA-signed certificate (client and server usage).
sign() {
  local name=$1 subject=$2 san=${3:-}
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -z $san ]] || echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI_DIR/$name.key" -subj "$subject" \
    -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" \
    -CAcreateserial -days 365 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

# write_kubeconfig FILE CERT_NAME: a kubeconfig for the API server with the given client cert.
write_kubeconfig() {
  local file=$1 cert=$2
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cronflow-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $cert
  user:
    client-certificate: $PKI_DIR/$cert.crt
    client-key: $PKI_DIR/$cert.key
contexts:
- name: cronflow-local
  context: {cluster: cronflow-local, user: $cert}
current-context: cronflow-local
EOF
}

ensure_pki() {
  if [[ -f $PKI_DIR/done ]]; then return; fi
  log "generating certificates in $PKI_DIR"
  rm -rf "$PKI_DIR" && mkdir -p "$PKI_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=cronflow-local-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" 2>/dev/null
  sign apiserver "/CN=kube-apiserver" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1,IP:$POD_GATEWAY"
  sign admin "/O=system:masters/CN=cronflow-admin"
  sign controller-manager "/CN=system:kube-controller-manager"
  sign scheduler "/CN=system:kube-scheduler"
  sign node "/O=system:nodes/CN=system:node:localhost" "DNS:localhost,IP:127.0.0.1"
  sign kube-proxy "/CN=system:kube-proxy"  # bound to system:node-proxier by the API server's defaults
  sign coredns "/CN=system:coredns"  # bound to the system:coredns ClusterRole by hack/lib/network.sh
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  # A user of its own for an operator run from the host, so the audit log tells its requests apart;
  # it holds no rights until a RoleBinding or ClusterRoleBinding grants them.
  sign operator "/CN=cronflow-operator"
  openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  write_kubeconfig "$STATE_DIR/kubeconfig" admin
  write_kubeconfig "$PKI_DIR/controller-manager.kubeconfig" controller-manager
  write_kubeconfig "$PKI_DIR/scheduler.kubeconfig" scheduler
  write_kubeconfig "$PKI_DIR/node.kubeconfig" node
  write_kubeconfig "$PKI_DIR/kube-proxy.kubeconfig" kube-proxy
  write_kubeconfig "$PKI_DIR/coredns.kubeconfig" coredns
  write_kubeconfig "$STATE_DIR/operator.kubeconfig" operator
  touch "$PKI_DIR/done"
}
