import uuid

import pytest

from clearml_lab.lab import connect

from .cluster import PracticeCluster, temporary_cluster


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


@pytest.fixture
def home(practice_cluster, tmp_path, monkeypatch):
    """A lab home whose practice cluster is the session's, as `clearml-lab practice up` would leave it."""
    from .recipe_helpers import lab_home_for

    home = lab_home_for(practice_cluster, tmp_path / "home")
    monkeypatch.setenv("CLEARML_LAB_HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


@pytest.fixture
def kubectl(practice_cluster):
    """kubectl against the practice cluster (optionally as another context of its kubeconfig)."""

    def run(*args, check=True, input=None, context=None):
        extra = ("--context", context) if context else ()
        return practice_cluster.run("kubectl", *extra, *args, check=check, input=input)

    return run


@pytest.fixture(scope="module")
def api(practice_cluster):
    from kubernetes import client

    c = practice_cluster.api_client()
    return {
        "core": client.CoreV1Api(c),
        "apps": client.AppsV1Api(c),
        "rbac": client.RbacAuthorizationV1Api(c),
        "custom": client.CustomObjectsApi(c),
    }


@pytest.fixture
def ns(api, namespace):
    """A namespace the allocation controller has already given its UID range."""
    from .recipe_helpers import eventually

    core = api["core"]
    eventually(
        lambda: (core.read_namespace(namespace).metadata.annotations or {}).get("openshift.io/sa.scc.mcs"),
        what="the namespace's UID/MCS allocation",
    )
    return namespace


@pytest.fixture(scope="module")
def cluster():
    """A practice cluster of the module's own, every simulated duration at 2 % (an install is Ready in seconds), for
    modules that change cluster-wide state (workshops, rollouts, recovery). A module that needs other server options
    defines its own ``cluster``."""
    with temporary_cluster(time_scale=0.02) as running:
        yield running


@pytest.fixture
def instructor(home, monkeypatch):
    """The lab as the cluster's admin, from the module's ``home``: the workshop's instructor."""
    monkeypatch.setenv("CLEARML_LAB_HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return connect()
