"""README's runnable blocks as the walkthrough test runs them, and YAML that kubectl would misread."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.readme import Command, runnable_blocks, script

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "samples").glob("*.yaml"))]

SAMPLE = """\
Intro.

```sh runnable
kubectl create namespace team-a
# a comment
helm install cronflow charts/cronflow \\
  --set image.pullPolicy=Never
cronflow-api --namespace team-a &
```

```console runnable
$ kubectl get sj
NAME   SCHEDULE
x      * * * * *
$ kubectl cronflow disable x
scheduledjobs.cronflow.dev/x disabled
$ kubectl patch sj x -p '{}'
```

```yaml
not: runnable
```

```yaml runnable
kind: ScheduledJob
```
"""


def test_runnable_blocks_are_parsed_into_commands_with_their_output() -> None:
    blocks = runnable_blocks(SAMPLE)
    assert [(b.kind, b.line) for b in blocks] == [("sh", 3), ("console", 11), ("yaml", 24)]
    assert blocks[0].commands == (
        Command("kubectl create namespace team-a"),
        Command("helm install cronflow charts/cronflow   --set image.pullPolicy=Never"),
        Command("cronflow-api --namespace team-a", background=True),
    )
    get, disable, patch = blocks[1].commands
    assert get.expected == ("NAME   SCHEDULE", "x      * * * * *")
    assert get.header() == "NAME   SCHEDULE"
    assert disable.header() == "scheduledjobs.cronflow.dev/x disabled"
    assert patch.expected == () and patch.header() is None
    assert Command("date", ("2026-12-02T05:00:00Z",)).header() is None, "a line with a time or an id is not compared"
    assert blocks[2].commands[0].text.startswith("kubectl apply -f - <<'CRONFLOW_README_EOF'\nkind: ScheduledJob\n")


def test_a_runnable_block_of_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="line 1: runnable block of unknown kind 'text'"):
        runnable_blocks("```text runnable\nhello\n```\n")


def test_the_script_runs_each_command_in_one_shell_and_stops_at_the_first_failure(tmp_path: Path) -> None:
    blocks = runnable_blocks("```sh runnable\nexport GREETING=hi\necho $GREETING\nfalse\necho never\n```\n")
    text = script(blocks, str(tmp_path)).replace('eval "$(hack/cluster env)"', "true")
    result = subprocess.run(["bash", "-c", text], capture_output=True, text=True, timeout=10)
    assert result.returncode == 100
    assert (tmp_path / "1.out").read_text() == "hi\n", "an export in one command is seen by the next"
    assert [(tmp_path / f"{n}.rc").read_text().strip() for n in range(3)] == ["0", "0", "1"]
    assert not (tmp_path / "3.rc").exists()


def test_readme_has_runnable_blocks_of_known_kinds() -> None:
    blocks = runnable_blocks((REPO / "README.md").read_text())
    assert {block.kind for block in blocks} >= {"sh", "console", "yaml"}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_bare_on_key_that_kubectl_reads_as_true(path: Path) -> None:
    """kubectl's YAML 1.1 parser reads a bare `on:` key as `true` (`unknown field "spec.notifications.true"`)."""
    bare = [n for n, line in enumerate(path.read_text().splitlines(), 1) if re.match(r"^\s*(- )?on:", line)]
    assert bare == [], f"{path.name}: write \"on\": with quotes (lines {bare})"


@pytest.mark.parametrize(
    "path", [*DOCUMENTS, REPO / "charts/cronflow/templates/NOTES.txt"], ids=lambda p: str(p.relative_to(REPO))
)
def test_no_document_tells_users_to_pip_install_into_their_own_python(path: Path) -> None:
    """A bare `pip install .` moves the pins of the user's other packages: pipx or the .venv instead."""
    told = [line for line in path.read_text().splitlines()
            if "pip install ." in line and not re.search(r"pipx install|never a bare|not a bare", line)]
    assert told == []
