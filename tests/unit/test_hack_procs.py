"""hack/lib/procs.sh: daemons it starts hold none of the caller's descriptors (a lock on fd 9 stays free) and
write their output, stderr too, to their log."""

import contextlib
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _open_files(pid: int) -> set[str]:
    """What the process's descriptors point at; one closed between the listing and its readlink (the
    dynamic loader opens and closes its libraries while the program starts) is not there."""
    files = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            files.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return files


def test_a_started_daemon_does_not_inherit_the_callers_lock(tmp_path: Path) -> None:
    script = f"""
set -euo pipefail
STATE_DIR={tmp_path}
log() {{ :; }}
source {REPO}/hack/lib/procs.sh
exec 9>{tmp_path}/lock
flock 9
start sleeper sleep 30
cat "$STATE_DIR/run/sleeper.pid"
"""
    pid = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout.strip()
    try:
        deadline = time.monotonic() + 10
        while b"sleep" not in Path(f"/proc/{pid}/cmdline").read_bytes():  # until the daemon itself runs
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.01)
        assert str(tmp_path / "lock") not in _open_files(int(pid))
        # The caller is gone: the lock is free unless the daemon holds it.
        subprocess.run(["flock", "--nonblock", str(tmp_path / "lock"), "true"], check=True, timeout=5)
    finally:
        os.kill(int(pid), 15)


def test_a_started_daemon_writes_stdout_and_stderr_to_its_log(tmp_path: Path) -> None:
    script = f"""
set -euo pipefail
STATE_DIR={tmp_path}
log() {{ :; }}
source {REPO}/hack/lib/procs.sh
start talker sh -c 'echo to-stdout; echo to-stderr >&2'
cat "$STATE_DIR/run/talker.pid"
"""
    pid = int(subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout.strip())
    log = tmp_path / "logs" / "talker.log"
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() or "to-stderr" not in log.read_text():
        assert time.monotonic() < deadline, f"the daemon's output did not reach its log: {log.read_text()!r}"
        time.sleep(0.01)
    assert log.read_text().split() == ["to-stdout", "to-stderr"]
