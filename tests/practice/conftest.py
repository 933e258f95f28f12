import uuid

import pytest

from .cluster import PracticeCluster


@pytest.fixture(scope="session")
def practice_cluster(tmp_path_factory):
    """One practice cluster for the session, started as `clearml-lab practice serve --port 0` in its own process."""
    cluster = PracticeCluster(tmp_path_factory.mktemp("practice-state"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def namespace(practice_cluster):
    """A fresh namespace per test, so tests do not see each other's objects."""
    from kubernetes import client

    name = f"t-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(practice_cluster.api_client())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name
