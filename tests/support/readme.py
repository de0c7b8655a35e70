"""README's runnable blocks: fenced blocks whose info string has the word `runnable`, and one bash script
that runs them in order in one shell, as a user would type them.

Kinds, by the block's first word:
- `sh`: each line (a trailing backslash continues it) is a command; a line ending in `&` starts a
  background process (the caller stops the script's process group at the end).
- `console`: a transcript; lines starting with `$ ` are commands, the lines after one are its output.
- `yaml`: a manifest, applied with `kubectl apply -f -`.
- `python`: run with the project's `.venv/bin/python`.
"""

import re
import shlex
from dataclasses import dataclass, field

KINDS = ("sh", "console", "yaml", "python")
_FENCE = re.compile(r"^```(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Command:
    """One command of a block, what README shows it printing, and whether it runs in the background."""

    text: str
    expected: tuple[str, ...] = ()
    background: bool = False

    def header(self) -> str | None:
        """README's first output line when it is a table header or a fixed message (no digit: no time or
        id in it), which the real first line of output must equal word for word; else None."""
        first = self.expected[0] if self.expected else ""
        if not first.strip() or any(char.isdigit() for char in first) or first.strip() == "...":
            return None
        return first


@dataclass(frozen=True)
class Block:
    """A runnable fenced block: its kind, its text and the README line it starts on."""

    kind: str
    text: str
    line: int
    commands: tuple[Command, ...] = field(default=())


def runnable_blocks(markdown: str) -> list[Block]:
    """The fenced blocks marked `runnable`, in order; ValueError for a marked block of an unknown kind."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("```")), len(lines))
        words = fence["info"].split()
        if "runnable" in words:
            kind = words[0] if words else ""
            if kind not in KINDS:
                raise ValueError(f"README line {start + 1}: runnable block of unknown kind {kind!r} (one of {KINDS})")
            text = "\n".join(lines[start + 1 : end])
            blocks.append(Block(kind, text, start + 1, _commands(kind, text)))
        index = end + 1
    return blocks


def _commands(kind: str, text: str) -> tuple[Command, ...]:
    if kind == "yaml":
        return (Command(f"kubectl apply -f - <<'CRONFLOW_README_EOF'\n{text}\nCRONFLOW_README_EOF"),)
    if kind == "python":
        return (Command(f".venv/bin/python - <<'CRONFLOW_README_EOF'\n{text}\nCRONFLOW_README_EOF"),)
    if kind == "sh":
        return tuple(_command(line) for line in _joined(text.splitlines()) if line.strip() and not _comment(line))
    commands: list[Command] = []
    for line in _joined(text.splitlines()):
        if line.startswith("$ "):
            commands.append(_command(line[2:]))
        elif commands:
            last = commands[-1]
            commands[-1] = Command(last.text, (*last.expected, line), last.background)
    return tuple(commands)


def _command(line: str) -> Command:
    stripped = line.rstrip()
    if stripped.endswith("&") and not stripped.endswith("&&"):
        return Command(stripped[:-1].rstrip(), background=True)
    return Command(stripped)


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _joined(lines: list[str]) -> list[str]:
    """Lines with backslash continuations joined."""
    joined: list[str] = []
    pending = ""
    for line in lines:
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def script(blocks: list[Block], outdir: str) -> str:
    """bash that runs every command in one shell, in order: command N's stdout, stderr and exit status go to
    `outdir`/N.out, N.err, N.rc; it stops at the first command that fails. It starts the way
    README's shell does: `eval "$(hack/cluster env)"`."""
    out = shlex.quote(outdir)
    lines = ['eval "$(hack/cluster env)"']
    number = 0
    for block in blocks:
        for command in block.commands:
            files = f"{out}/{number}"
            if command.background:
                lines.append(f"{{ {command.text}\n}} >{files}.out 2>{files}.err & echo 0 >{files}.rc")
            else:
                lines.append(f"{{ {command.text}\n}} >{files}.out 2>{files}.err; rc=$?; echo $rc >{files}.rc")
                lines.append('[ "$rc" -eq 0 ] || exit 100')
            number += 1
    return "\n".join(lines) + "\n"
