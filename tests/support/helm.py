"""The pinned helm binary that `hack/cluster env` puts on PATH (built by `hack/cluster build` when missing)."""

import functools
import shutil

from tests.support.cluster import hack_cluster, hack_cluster_env


@functools.cache
def helm_binary() -> str:
    """Path of the pinned helm."""
    path = hack_cluster_env()["PATH"]
    found = shutil.which("helm", path=path)
    if found is None:
        hack_cluster("build")
        found = shutil.which("helm", path=path)
    assert found, "hack/cluster build did not provide helm"
    return found
