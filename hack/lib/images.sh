# shellcheck shell=bash
# Docker engine, the local base and pause images (no registry needed), loading images into the node.
# Sourced by hack/cluster after hack/lib/globals.sh; log(), die() from hack/cluster, start(), running()
# and wait_for() from hack/lib/procs.sh, ctr_k8s() from hack/lib/node.sh.
# Globals: IMAGE_CACHE STATE_DIR PAUSE_IMAGE BASE_IMAGE BASE_PACKAGES DEBIAN_MIRROR

ensure_docker() {
  docker info >/dev/null 2>&1 && return
  command -v dockerd >/dev/null || die "no Docker engine: apt-get install docker.io"
  # No bridge and no iptables rules: builds need no network, nothing here is published.
  start dockerd dockerd --iptables=false --bridge=none --host unix:///var/run/docker.sock
  wait_for dockerd 60 docker info
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The pause (sandbox) image: a static busybox that sleeps; saved as a tarball for `ctr import`.
ensure_pause_image() {
  [[ -f $IMAGE_CACHE/pause.tar ]] && return
  [[ -x /bin/busybox ]] || die "pause image needs busybox: apt-get install busybox-static"
  file -L /bin/busybox 2>/dev/null | grep "statically linked" >/dev/null ||
    die "/bin/busybox is not static: apt-get install busybox-static"
  ensure_docker
  log "building $PAUSE_IMAGE from static busybox"
  local root
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$IMAGE_CACHE"
  cp /bin/busybox "$root/bin/busybox"
  tar -C "$root" -c . | docker import \
    --change 'ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]' --change 'USER 65535:65535' \
    - "$PAUSE_IMAGE" >/dev/null
  rm -rf "$root"
  docker save "$PAUSE_IMAGE" -o "$IMAGE_CACHE/pause.tar.tmp" && mv "$IMAGE_CACHE/pause.tar.tmp" "$IMAGE_CACHE/pause.tar"
}

cmd_base_image() {
  ensure_docker
  if image_exists "$BASE_IMAGE"; then log "base image $BASE_IMAGE present"; echo "$BASE_IMAGE"; return; fi
  local key rootfs_tar
  key=$(echo "bookworm $BASE_PACKAGES" | sha256sum | cut -c1-12)
  rootfs_tar=$IMAGE_CACHE/base-rootfs-$key.tar
  if [[ ! -f $rootfs_tar ]]; then
    command -v debootstrap >/dev/null || die "base image needs debootstrap: apt-get install debootstrap"
    local root
    root=$(mktemp -d "${TMPDIR:-/tmp}/cronflow-rootfs.XXXXXX")
    mkdir -p "$STATE_DIR/logs"
    log "debootstrap bookworm (minbase + $BASE_PACKAGES) into $root: a few minutes"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$root" "$DEBIAN_MIRROR" \
      >"$STATE_DIR/logs/debootstrap.log" 2>&1 || die "debootstrap failed: see $STATE_DIR/logs/debootstrap.log"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
      "$root"/usr/share/man "$root"/usr/share/locale
    mkdir -p "$IMAGE_CACHE"
    tar -C "$root" --numeric-owner -c . >"$rootfs_tar.tmp" && mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$root"
  fi
  log "importing base image $BASE_IMAGE"
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$rootfs_tar" "$BASE_IMAGE" >/dev/null
  echo "$BASE_IMAGE"
}

cmd_load_image() {
  (($#)) || die "usage: hack/cluster load-image IMAGE..."
  running containerd || die "the node is not running: hack/cluster up --with-node"
  ensure_docker
  local img
  for img in "$@"; do
    log "loading $img into the node"
    docker save "$img" | ctr_k8s images import - >/dev/null
  done
}
