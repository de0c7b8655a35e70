"""Fixtures shared by the e2e tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster
from tests.support.flow_server import Server, serve
from tests.support.volumes import Volumes


@pytest.fixture
def flow_server(node: Cluster) -> Iterator[Server]:
    """The flow service stand-in, on the pod network's gateway so job pods reach it."""
    yield from serve(host=node.pod_gateway)


@pytest.fixture
def volumes(node: Cluster, namespace: str, tmp_path: Path) -> Iterator[Volumes]:
    made = Volumes(node, namespace, tmp_path, [])
    yield made
    for pv_name in made.made:
        node.kubectl("delete", "pv", pv_name, "--wait=false", check=False)
