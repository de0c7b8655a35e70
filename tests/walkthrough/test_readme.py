"""A new user's first hour: `hack/demo`, then every block of README marked `runnable`, in order, in one
shell started with README's own `eval "$(hack/cluster env)"`, exactly as written.

Each command must exit 0, and where README shows a table header or a fixed message as the first line of a
command's output, the real first line must say the same words. Runs on its own after the cluster tiers
(hack/test, stage walkthrough): the demo's operator watches every namespace, and `hack/demo down` at the
end stops the cluster.
"""

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.readme import Block, Command, runnable_blocks, script

pytestmark = pytest.mark.walkthrough

REPO = Path(__file__).resolve().parents[2]
README_NAMESPACES = ("team-a",)
"""Namespaces README's blocks create; deleted before and after, so the walkthrough runs again."""
INBOX = Path("/srv/cronflow/inbox")
"""The automatic-mode recipe's hostPath directory."""


def run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=REPO, capture_output=True, text=True, timeout=timeout)


def cluster_shell(command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`command` in a shell with README's environment (for set-up and clean-up, not for README's blocks)."""
    return run("bash", "-c", f'eval "$(hack/cluster env)"; {command}', timeout=timeout)


def clean_up() -> None:
    """What README's blocks create: the namespaces, the automatic-mode sample's ScheduledJob, claim, volume
    and directory in the demo's namespace, and a Helm release (from an interrupted run)."""
    cluster_shell("helm uninstall cronflow -n cronflow-system --wait >/dev/null 2>&1 || true")
    names = " ".join(README_NAMESPACES)
    cluster_shell(f"kubectl delete namespace {names} --ignore-not-found --wait=true --timeout=120s")
    cluster_shell("kubectl -n cronflow-demo delete sj/invoice-import pvc/inbox --ignore-not-found --timeout=120s; "
                  "kubectl delete pv cronflow-inbox --ignore-not-found --timeout=60s")
    shutil.rmtree(INBOX, ignore_errors=True)


@pytest.fixture(scope="module")
def demo() -> Iterator[subprocess.CompletedProcess[str]]:
    """README's quick start, first command: `hack/demo`; `hack/demo down` at the end."""
    result = run("hack/demo", timeout=1800)
    try:
        clean_up()
        yield result
    finally:
        clean_up()
        run("hack/demo", "down", timeout=300)


def where(block: Block, command: Command) -> str:
    return f"README line {block.line} ({block.kind} block): {command.text.splitlines()[0]}"


def test_the_demo_prints_the_tables_readme_shows(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, f"hack/demo failed:\n{demo.stderr[-3000:]}"
    readme = (REPO / "README.md").read_text()
    for header in ("NAME             SCHEDULE     STATE     READY", "JOB                                TRIGGER"):
        assert header in readme, "README shows the demo's output"
        assert header.split() == next(
            (line.split()[: len(header.split())] for line in demo.stdout.splitlines() if line.startswith(header[:4])),
            None,
        ), f"hack/demo printed no {header.split()[0]} table:\n{demo.stdout}"
    job = demo.stderr.split("waiting for the result of Job ", 1)[1].split()[0]
    assert any(line.startswith(f"{job} ") and " OK " in line for line in demo.stdout.splitlines()), (
        f"the table of the run the demo triggered ({job}):\n{demo.stdout}"
    )
    assert "\x00" not in demo.stdout + demo.stderr, "clean logs when redirected to a file"
    assert [f"{n}/6" in demo.stderr for n in range(1, 7)] == [True] * 6, "every step is in the log"


def test_every_runnable_block_of_readme_works_as_written(
    demo: subprocess.CompletedProcess[str], tmp_path: Path
) -> None:
    assert demo.returncode == 0, "hack/demo failed (see the test above)"
    blocks = runnable_blocks((REPO / "README.md").read_text())
    path = tmp_path / "readme.sh"
    path.write_text(script(blocks, str(tmp_path)))
    shell = subprocess.Popen(["bash", str(path)], cwd=REPO, start_new_session=True)
    try:
        shell.wait(timeout=1200)
    finally:
        with_background_processes_stopped(shell.pid)
    commands = [(block, command) for block in blocks for command in block.commands]
    for number, (block, command) in enumerate(commands):
        rc_file = tmp_path / f"{number}.rc"
        assert rc_file.exists(), f"not run (an earlier command failed): {where(block, command)}"
        out = (tmp_path / f"{number}.out").read_text(errors="replace")
        err = (tmp_path / f"{number}.err").read_text(errors="replace")
        assert rc_file.read_text().strip() == "0", f"{where(block, command)} failed:\n{out}\n{err}"
        header = command.header()
        if header is not None:
            first = next((line for line in out.splitlines() if line.strip()), "")
            shown = f"{where(block, command)} printed {first!r}, README shows {header!r}"
            assert first.split() == header.split(), shown
    assert shell.returncode == 0


def with_background_processes_stopped(pgid: int) -> None:
    """SIGTERM to what README's blocks started in the background (the shell's process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
