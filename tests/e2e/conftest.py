"""Fixtures shared by the e2e tests."""

from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster
from tests.support.flow_server import Server, serve


@pytest.fixture
def flow_server(node: Cluster) -> Iterator[Server]:
    """The flow service stand-in, on the pod network's gateway so job pods reach it."""
    yield from serve(host=node.pod_gateway)
