"""connect(): the target is only ever a real cluster when the user chose one."""

import pytest
import yaml

from clearml_lab.errors import LabError, UsageError
from clearml_lab.lab import Settings, connect, resolve_target, state_dir_for


def _kubeconfig(path, server="https://api.example.test:6443", namespace=None, current="admin"):
    ctx = {"cluster": "c1", "user": "u1", **({"namespace": namespace} if namespace else {})}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [{"name": "c1", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
                "users": [{"name": "u1", "user": {"token": "sha256~not-a-real-token"}}],
                "contexts": [
                    {"name": "admin", "context": ctx},
                    {"name": "other", "context": {"cluster": "c1", "user": "u1"}},
                ],
            }
        )
    )
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEARML_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBECONFIG", raising=False)


def test_without_a_choice_the_target_is_the_practice_cluster(tmp_path):
    practice = tmp_path / "home" / "practice"
    practice.mkdir(parents=True)
    _kubeconfig(practice / "kubeconfig", server="https://127.0.0.1:6443")
    target = resolve_target()
    assert target.is_practice and target.server == "https://127.0.0.1:6443"


def test_without_a_choice_and_no_practice_cluster_it_says_how_to_start_one():
    with pytest.raises(LabError, match="clearml-lab practice up"):
        resolve_target()


def test_kubeconfig_env_counts_as_a_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "kc")))
    target = resolve_target()
    assert target.kind == "kubeconfig" and target.server == "https://api.example.test:6443"


def test_explicit_kubeconfig_and_context(tmp_path):
    target = resolve_target(str(_kubeconfig(tmp_path / "kc")), context="other")
    assert (target.kind, target.context) == ("kubeconfig", "other")
    assert "context other" in target.describe()


def test_unknown_context_lists_the_valid_ones(tmp_path):
    with pytest.raises(LabError, match="choose one of admin, other"):
        resolve_target(str(_kubeconfig(tmp_path / "kc")), context="nope")


def test_namespace_comes_from_the_context_when_it_names_one(tmp_path):
    lab = connect(str(_kubeconfig(tmp_path / "kc", namespace="team-a")))
    assert lab.namespace == "team-a"
    assert connect(str(_kubeconfig(tmp_path / "kc2"))).namespace == "clearml"
    assert connect(str(_kubeconfig(tmp_path / "kc3", namespace="team-a")), namespace="x").namespace == "x"


def test_state_is_separate_per_cluster_and_namespace(tmp_path):
    a = resolve_target(str(_kubeconfig(tmp_path / "a", server="https://a:6443")))
    b = resolve_target(str(_kubeconfig(tmp_path / "b", server="https://b:6443")))
    assert len({state_dir_for(a, "n1"), state_dir_for(a, "n2"), state_dir_for(b, "n1")}) == 3


def test_in_cluster_uses_the_service_account_files(tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("stand-in-token")
    (sa / "ca.crt").write_text("")
    (sa / "namespace").write_text("rhods-notebooks\n")
    monkeypatch.setenv("CLEARML_LAB_SA_DIR", str(sa))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "172.30.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    target = resolve_target(in_cluster=True)
    assert (target.kind, target.server, target.context_namespace) == (
        "in-cluster",
        "https://172.30.0.1:443",
        "rhods-notebooks",
    )


def test_in_cluster_outside_a_pod_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEARML_LAB_SA_DIR", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(LabError, match="in-cluster configuration is not available"):
        resolve_target(in_cluster=True)


@pytest.mark.parametrize(
    "changes,needle",
    [
        ({"namespace": "Bad_Name"}, "namespace 'Bad_Name' is not a valid name"),
        ({"release": "r" * 54}, "at most 53"),
        ({"profile": "yolo"}, "choose one of seed, hardened"),
        ({"chart_version": "latest"}, "not a version number"),
    ],
)
def test_bad_settings_are_one_sentence(changes, needle):
    with pytest.raises(UsageError, match=needle):
        Settings(**changes)


def test_missing_kubeconfig_file(tmp_path):
    with pytest.raises(LabError, match="does not exist"):
        resolve_target(str(tmp_path / "nope"))
