"""The image recipes keep their guarantees; the images themselves are checked where they are built.

hack/images checks every image right after building it and fails the build otherwise (so hack/demo and
the e2e tier, which build through it, never use an unchecked image): the job image's files, listed from
outside with `docker export`, hold no shell, perl, package manager or program other than python3; both
images run as a non-root uid; python3 runs the runner (a run with an unreachable flow writes an ERROR
result and exits 1) and the operator (its entry point imports, and a zone loads from the tzdata package
alone); the packages installed are exactly the lock's. Here, without Docker: the recipes that those checks
rely on.
"""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each stage (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    found: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line.strip())
    return found


def test_the_job_image_starts_empty_and_runs_no_shell() -> None:
    final = stages(REPO / "jobs_image" / "Dockerfile")[-1]
    assert final[0] == "FROM scratch"
    runs = [line.removeprefix("RUN ") for line in final if line.startswith("RUN ")]
    assert runs and all(isinstance(json.loads(run), list) for run in runs), "a RUN in the final stage needs a shell"
    (user,) = [line.split()[1] for line in final if line.startswith("USER ")]
    assert re.fullmatch(r"[1-9][0-9]*:[0-9]+", user), user


def test_both_images_run_as_a_numeric_non_root_user() -> None:
    for dockerfile in (REPO / "operator" / "Dockerfile", REPO / "jobs_image" / "Dockerfile"):
        users = [line.split()[1] for line in stages(dockerfile)[-1] if line.startswith("USER ")]
        assert users and re.fullmatch(r"[1-9][0-9]*:[0-9]+", users[-1]), dockerfile


def test_hack_images_checks_each_image_right_after_building_it() -> None:
    lines = (REPO / "hack" / "images").read_text().splitlines()
    builds = [i for i, line in enumerate(lines) if line.startswith("docker build ")]
    assert len(builds) == 2
    for i in builds:
        tag = re.search(r" -t (\S+)", lines[i])
        assert tag is not None and lines[i + 1].split() == [f"check_{tag[1].split('-')[1].split(':')[0]}_image", tag[1]]
