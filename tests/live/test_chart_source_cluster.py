"""The chart source against the practice cluster: its own repository by default, --chart-repo to another, the version
resolved once and kept, and the whole recipe with the tests' own chart from a loopback repository."""

import pytest
import yaml

from tests.chartrepo_fixtures import NEW_VERSION, extended_repository, index, new_chart_files, package
from tests.live.recipe_helpers import cli, lab_home_for

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


@pytest.fixture
def home(cluster, tmp_path):
    return lab_home_for(cluster, tmp_path / "home")


def practice_repo_url(cluster) -> str:
    from kubernetes import client

    found = client.CustomObjectsApi(cluster.api_client()).get_cluster_custom_object(
        "helm.openshift.io", "v1beta1", "helmchartrepositories", "clearml"
    )
    return found["spec"]["connectionConfig"]["url"]


def test_on_the_practice_cluster_the_default_is_its_own_repository(cluster, home):
    done = cli(home, "charts")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(
        f"clearml chart versions served by {practice_repo_url(cluster)}; target: the practice "
        f"cluster at {cluster.server}"
    )
    # OpenShift 4.19 is Kubernetes 1.32: 7.3.1 (< 1.29) does not fit, 7.14.4 does and is the default.
    assert lines[2].split() == ["*", "7.14.4", "2.0", ">=", "1.21.0-0", "<", "1.33.0-0", "yes"]
    assert lines[3].split() == ["7.3.1", "1.12.0", ">=", "1.21.0-0", "<", "1.29.0-0", "no"]
    shown = cli(home, "run", "helm-repo")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"repository clearml → {practice_repo_url(cluster)}" in shown.stdout
    assert "chart version 7.14.4 (the newest that fits the cluster, kept for the later steps)" in shown.stdout


def test_chart_repo_points_every_step_at_a_mirror_and_the_version_is_kept(cluster, home, tmp_path):
    served = tmp_path / "mirror"
    repo = extended_repository(served, tmp_path / "src")
    try:
        namespace = "mirror-recipe"
        common = ("--chart-repo", repo.url, "--namespace", namespace)
        charts = cli(home, *common, "charts")
        assert charts.returncode == 0, charts.stderr
        assert f"* {NEW_VERSION}" in charts.stdout.replace("  ", " ")
        values = cli(home, *common, "lint-values", "/dev/null")
        assert values.returncode == 0 and f"against clearml chart {NEW_VERSION} from {repo.url}" in values.stdout
        plan = cli(home, *common, "plan-scc")
        assert plan.returncode == 0, plan.stderr
        assert "oc adm policy add-scc-to-user privileged -z clearml-worker" in plan.stdout
        done = cli(home, *common, "run", "all", timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"repository clearml → {repo.url}" in done.stdout
        assert f"chart version {NEW_VERSION}" in done.stdout
        # helm installed the mirror's chart at the kept version, with the planned grants the shared account needs.
        listed = cluster.run("helm", "list", "-n", namespace, "-o", "yaml")
        [release] = yaml.safe_load(listed.stdout)
        assert release["chart"] == f"clearml-{NEW_VERSION}"
        # The mirror publishes a newer chart mid-session: the lab keeps the version it resolved.
        package(new_chart_files("7.16.0"), "clearml", served, tmp_path / "src2")
        index(served, repo.url)
        again = cli(home, *common, "charts")
        assert "* 7.16.0" in again.stdout.replace("  ", " ") and f"> {NEW_VERSION}" in again.stdout.replace("  ", " ")
        check = cli(home, *common, "check", "values")
        assert check.returncode == 0, check.stdout
        header = next(p for p in (home / "state").rglob("values.yaml") if namespace in str(p.parent)).read_text()
        assert f"chart {NEW_VERSION} from {repo.url}" in header.splitlines()[0]
        undone = cli(home, *common, "run", "cleanup", timeout=900)
        assert undone.returncode == 0, undone.stdout + undone.stderr
    finally:
        repo.stop()
