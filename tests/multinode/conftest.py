"""A real multi-node Ray cluster on this machine (ray.cluster_utils.Cluster, as Ray's own tests start one).

The head holds no CPU, so every actor, Train worker and Tune trial lands on a worker node: each a raylet of its
own with its own object store, as on a cluster, and each removable mid-run (``allow_graceful=False``: the node
dies as a machine would). The tests run at a small size in CI; ``ARCRAY_MULTINODE_NODES`` and
``ARCRAY_MULTINODE_TASKS`` make them heavier (``pytest -m multinode`` runs only these).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.training.conftest import chat_data, tiny_base  # noqa: E402,F401  (fixtures)

NODES = int(os.environ.get("ARCRAY_MULTINODE_NODES", "2"))
OBJECT_STORE = 200 * 2**20  # per node: the tests move kilobytes; Ray's default would take 30% of RAM each


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TestCluster:
    """The cluster and what the tests do to it: count, kill and replace worker nodes."""

    def __init__(self) -> None:
        from ray.cluster_utils import Cluster

        self.cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "object_store_memory": OBJECT_STORE,
            "dashboard_port": free_port(),  # the state API lists actors through it; 8265 may be another Ray's
            # a dead node is noticed in about 3 s, not Ray's default 15-30 s: the node-loss tests wait less
            "_system_config": {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
                               "health_check_timeout_ms": 1000, "health_check_failure_threshold": 3},
        })
        self.workers = []
        self.top_up()

    @property
    def address(self) -> str:
        return self.cluster.address

    def top_up(self, count: int = NODES) -> None:
        """Bring the live worker nodes back to ``count`` (one CPU each), as an autoscaler replaces lost ones."""
        while len(self.workers) < count:
            self.workers.append(self.cluster.add_node(num_cpus=1, object_store_memory=OBJECT_STORE))
        self.cluster.wait_for_nodes()

    def kill(self, node_id: str | None = None) -> str:
        """Kill a worker node (the one with ``node_id``, else the last) without a graceful shutdown; its id."""
        node = next(n for n in self.workers if node_id is None or n.node_id == node_id) if node_id else self.workers[-1]
        self.workers.remove(node)
        self.cluster.remove_node(node, allow_graceful=False)
        return node.node_id

    def worker_ids(self) -> set[str]:
        return {n.node_id for n in self.workers}

    def shutdown(self) -> None:
        self.cluster.shutdown()


# What every node's processes need to reach the S3 server (moto's, in this process): set before the nodes start,
# which their workers inherit. Test values, not secrets.
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
          "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="package")
def cluster():
    """One cluster for this folder's tests, the driver connected to it; the suite's local Ray is stopped meanwhile and restarted after."""
    import ray

    from arcray.runtime.ray_setup import ensure_ray

    was_up = ray.is_initialized()
    ray.shutdown()
    saved = {name: os.environ.get(name) for name in S3_ENV}
    os.environ.update(S3_ENV)
    made = TestCluster()
    ray.init(address=made.address, logging_level="ERROR", log_to_driver=False)
    try:
        yield made
    finally:
        ray.shutdown()
        made.shutdown()
        for name, value in saved.items():
            os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
        if was_up:
            ensure_ray(num_cpus=2)


@pytest.fixture
def nodes(cluster):
    """The cluster with its full count of live worker nodes, every CPU free (the last test's actors gone: Ray Data
    stops its pool as the dataset ends, not before it returns), at the start of a test."""
    import ray

    cluster.top_up()
    deadline = time.monotonic() + 60
    while ray.available_resources().get("CPU", 0) < len(cluster.workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    return cluster


@pytest.fixture(scope="module")
def s3():
    """A real S3-compatible server (moto's server mode) on 127.0.0.1 with one bucket; yields a URI maker."""
    import boto3
    from moto.server import ThreadedMotoServer

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="arcray")
    try:
        yield lambda path: f"s3://arcray/{path}?endpoint_override={endpoint}&region=us-east-1"
    finally:
        server.stop()
