# shellcheck shell=bash
# Builds pinned upstream binaries from Go modules into the version-keyed cache ($BIN_DIR).
# Sourced by hack/cluster after hack/lib/globals.sh; log() and die() come from hack/cluster.
# Globals: BIN_DIR K8S_VERSION ETCD_VERSION HELM_VERSION COREDNS_VERSION CONTROL_PLANE_VERSION
# Globals: CONTROL_PLANE_BIN_DIR

# go_build_wrapped MODULE VERSION OUT LDFLAGS PKG... : (OUT: a folder ending in / or, for one PKG, a file) builds PKGs of MODULE@VERSION through a
# throw-away wrapper module, since `go install` refuses modules that carry replace directives.
go_build_wrapped() {
  local module=$1 version=$2 outdir=$3 ldflags=$4
  shift 4
  local work rc=0
  work=$(mktemp -d "${TMPDIR:-/tmp}/cronflow-gobuild.XXXXXX")
  {
    echo "module cronflow.local/build"
    echo "go 1.24"
    echo "require $module $version"
  } >"$work/go.mod"
  if [[ $module == k8s.io/kubernetes ]]; then
    # k8s.io/kubernetes replaces its staging modules with local folders; point them at the
    # matching published v0.x.y versions instead.
    local staging=${version/v1./v0.}
    local gomod
    gomod=$(cd "$work" && go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    sed -n '/^replace (/,/^)/p' "$gomod" | awk '$2 == "=>" {print $1}' | while read -r dep; do
      echo "replace $dep => $dep $staging"
    done >>"$work/go.mod"
  fi
  (
    cd "$work" || exit
    log "resolving modules for $module@$version"
    GOFLAGS=-mod=mod go get "${@/%/@$version}"
    compile_with_progress "$outdir" "$ldflags" "$@"
  ) || rc=$?
  rm -rf "$work"
  return "$rc"
}

# compile_with_progress OUT LDFLAGS PKG...: go build, logging every 30 s how many of the packages it
# needs have been compiled so far (a cold Kubernetes build is many minutes of silence otherwise).
compile_with_progress() {
  local out=$1 ldflags=$2 total t0=$SECONDS next=30 pid rc=0 buildlog
  shift 2
  total=$(CGO_ENABLED=0 GOFLAGS=-mod=mod go list -deps "$@" | wc -l)
  buildlog=$(mktemp "${TMPDIR:-/tmp}/cronflow-gobuild-log.XXXXXX")
  log "compiling $* ($total packages; the Go build cache keeps what an earlier build compiled)"
  # -v names each package as it is compiled (cached ones are not named).
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -v -trimpath -ldflags "-s -w $ldflags" -o "$out" "$@" 2>"$buildlog" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS - t0 >= next)); then
      log "compiling: $(wc -l <"$buildlog") of $total packages compiled after $((SECONDS - t0)) s"
      next=$((next + 30))
    fi
  done
  wait "$pid" || rc=$?
  if ((rc)); then tail -n 40 "$buildlog" >&2; fi
  rm -f "$buildlog"
  return "$rc"
}

# k8s_ldflags VERSION: the version stamps `kubectl version` and /version report.
k8s_ldflags() {
  local v=$1 minor
  minor=${v#v1.}; minor=${minor%%.*}
  local date flags="" pkg
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "$flags"
}

# build_k8s_components VERSION DIR COMPONENT...: those of the components missing from DIR, at VERSION.
build_k8s_components() {
  local version=$1 dir=$2 want=() c
  shift 2
  for c in "$@"; do
    if [[ -x $dir/$c ]]; then log "cached: $c ($version)"; else want+=("k8s.io/kubernetes/cmd/$c"); fi
  done
  ((${#want[@]})) || return 0
  log "building ${#want[@]} Kubernetes $version component(s) from Go modules (cold: about 8 minutes on 2 cores)"
  local t0=$SECONDS
  mkdir -p "$dir"
  go_build_wrapped k8s.io/kubernetes "$version" "$dir/" "$(k8s_ldflags "$version")" "${want[@]}"
  log "Kubernetes $version components built in $((SECONDS - t0)) s"
}

# build_kubernetes, build_etcd, build_helm: each builds its binaries into $BIN_DIR unless they are there;
# the control plane (API server, controller-manager, scheduler) at $CONTROL_PLANE_VERSION, which is
# the node's version unless CRONFLOW_CONTROL_PLANE=newest selects the newest pin (hack/lib/globals.sh).
build_kubernetes() {
  build_k8s_components "$K8S_VERSION" "$BIN_DIR" kubelet kube-proxy kubectl
  build_k8s_components "$CONTROL_PLANE_VERSION" "$CONTROL_PLANE_BIN_DIR" kube-apiserver kube-controller-manager kube-scheduler
}

build_etcd() {
  if [[ -x $BIN_DIR/etcd ]]; then log "cached: etcd ($ETCD_VERSION)"; return; fi
  log "building etcd $ETCD_VERSION"
  local t0=$SECONDS
  go_build_wrapped go.etcd.io/etcd/server/v3 "$ETCD_VERSION" "$BIN_DIR/etcd" "" go.etcd.io/etcd/server/v3
  log "etcd built in $((SECONDS - t0)) s"
}

# CoreDNS, the cluster's DNS server (hack/lib/dns.sh); cached by its version, which it prints.
build_coredns() {
  if [[ -x $BIN_DIR/coredns && $("$BIN_DIR/coredns" -version 2>/dev/null) == *"CoreDNS-${COREDNS_VERSION#v}"* ]]; then
    log "cached: coredns ($COREDNS_VERSION)"
    return
  fi
  log "building coredns $COREDNS_VERSION (cold: about 3 minutes on 2 cores)"
  local t0=$SECONDS
  go_build_wrapped github.com/coredns/coredns "$COREDNS_VERSION" "$BIN_DIR/coredns" "" github.com/coredns/coredns
  log "coredns built in $((SECONDS - t0)) s"
}

# helm alone is what the unit tests need (tests/unit/test_chart.py, hack/render-manifests).
build_helm() {
  if [[ -x $BIN_DIR/helm ]]; then log "cached: helm ($HELM_VERSION)"; return; fi
  log "building helm $HELM_VERSION (cold: a few minutes)"
  local t0=$SECONDS
  go_build_wrapped helm.sh/helm/v3 "$HELM_VERSION" "$BIN_DIR/helm" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm.sh/helm/v3/cmd/helm
  log "helm built in $((SECONDS - t0)) s"
}

# cmd_build [kubernetes|etcd|coredns|helm]...: the named components (default: all of them).
cmd_build() {
  local components=("$@") c
  ((${#components[@]})) || components=(kubernetes etcd coredns helm)
  for c in "${components[@]}"; do
    case $c in
      kubernetes|etcd|coredns|helm) ;;
      *) die "unknown component: $c (build [kubernetes|etcd|coredns|helm]...)" ;;
    esac
  done
  mkdir -p "$BIN_DIR"
  for c in "${components[@]}"; do "build_$c"; done
  log "binaries in $BIN_DIR: $(cd "$BIN_DIR" && echo *)"
  if [[ $CONTROL_PLANE_BIN_DIR != "$BIN_DIR" && -d $CONTROL_PLANE_BIN_DIR ]]; then
    log "control plane $CONTROL_PLANE_VERSION in $CONTROL_PLANE_BIN_DIR: $(cd "$CONTROL_PLANE_BIN_DIR" && echo *)"
  fi
}
