"""The pinned helm binary that `hack/cluster env` puts on PATH (`hack/cluster build helm` builds it when missing).

helm alone, not the Kubernetes binaries: the unit tier needs no Kubernetes build.
"""

import functools
import shutil

from tests.support.cluster import hack_cluster, hack_cluster_env


@functools.cache
def helm_binary() -> str:
    """Path of the pinned helm."""
    path = hack_cluster_env()["PATH"]
    found = shutil.which("helm", path=path)
    if found is None:
        hack_cluster("build", "helm")
        found = shutil.which("helm", path=path)
    assert found, "hack/cluster build helm did not provide helm"
    return found
