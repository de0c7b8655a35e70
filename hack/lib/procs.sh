# shellcheck shell=bash
# Background processes of the local cluster, tracked by PID files in $STATE_DIR/run.
# Sourced by hack/cluster after hack/lib/globals.sh (and by tests/unit/test_hack_procs.py, which sets
# STATE_DIR and log() itself); log() and die() from hack/cluster.
# Globals: STATE_DIR

pid_of() { cat "$STATE_DIR/run/$1.pid" 2>/dev/null || true; }

running() {
  local pid
  pid=$(pid_of "$1")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# start NAME CMD...: runs CMD in its own session, logging to $STATE_DIR/logs/NAME.log; no-op when running.
# The daemon keeps none of the caller's other descriptors (e.g. hack/images' build lock on fd 9, which
# a long-lived dockerd would otherwise hold forever).
start() {
  local name=$1
  shift
  if running "$name"; then log "$name already running (pid $(pid_of "$name"))"; return; fi
  mkdir -p "$STATE_DIR/run" "$STATE_DIR/logs"
  # The log redirection comes after the loop: the loop's own 2>/dev/null is undone through a saved copy
  # of fd 2 that the loop closes, which would leave the daemon's stderr on /dev/null.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done 2>/dev/null
    exec setsid "$@" >>"$STATE_DIR/logs/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$STATE_DIR/run/$name.pid"
  log "started $name (pid $!, log $STATE_DIR/logs/$name.log)"
}

# stop NAME: SIGTERM the process group, SIGKILL after 10 s.
stop() {
  local name=$1 pid i
  pid=$(pid_of "$name")
  rm -f "$STATE_DIR/run/$name.pid"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  log "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# wait_for WHAT SECONDS CMD...: polls CMD until it succeeds; fails with the last log lines.
wait_for() {
  local what=$1 timeout=$2 t0=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - t0 > timeout)); then die "$what not ready after ${timeout}s"; fi
    sleep 0.5
  done
  log "$what ready after $((SECONDS - t0)) s"
}
