"""Workshop provisioning checks that the cluster can hold an install per learner: a practice cluster started with
`practice serve --storage-capacity 300Gi` publishes 300Gi free, which holds one 155Gi workshop budget but not two."""

import pytest

from clearml_lab import workshop
from clearml_lab.lab import connect

from .cluster import temporary_cluster
from .recipe_helpers import cli, lab_home_for


@pytest.fixture(scope="module")
def cluster():
    with temporary_cluster(time_scale=0.02, extra_args=("--storage-capacity", "300Gi")) as running:
        yield running


@pytest.fixture(scope="module")
def home(cluster, tmp_path_factory):
    return lab_home_for(cluster, tmp_path_factory.mktemp("workshop-capacity") / "home")


def test_too_little_capacity_is_refused_with_the_numbers_unless_forced(home, cluster, monkeypatch):
    monkeypatch.setenv("CLEARML_LAB_HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    kube = connect().kube()
    before = kube.get("clusterrolebindings", workshop.SELF_PROVISIONERS)

    result = cli(home, "workshop", "provision", "--learners", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot hold 2 ClearML install(s): they may claim 310Gi more (2 × 155Gi" in result.stderr
    assert "standard-csi has 300Gi free" in result.stderr and "--force" in result.stderr
    assert workshop.learners(connect()) == {}  # refused before anything changed
    assert kube.get("clusterrolebindings", workshop.SELF_PROVISIONERS)["subjects"] == before["subjects"]

    one = cli(home, "workshop", "provision", "--learners", "1")
    assert one.returncode == 0, one.stderr
    assert "1 learner(s) × 155Gi may claim 155Gi more; storage class standard-csi has 300Gi free — fits" in one.stdout

    forced = cli(home, "workshop", "provision", "--learners", "2", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "may claim 310Gi more; storage class standard-csi has 300Gi free — does NOT fit (--force)" in forced.stdout
    assert sorted(workshop.learners(connect())) == ["learner1", "learner2"]
