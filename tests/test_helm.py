import sys

import pytest

from clearml_lab.errors import LabError
from clearml_lab.helm import Helm


def test_version_of_the_installed_helm_is_supported(tmp_path):
    helm = Helm(kubeconfig=None, context=None, state_dir=tmp_path)
    assert helm.supported()
    assert helm.version() >= (3, 14, 0)


def test_repository_state_is_private_to_the_lab_state_dir(tmp_path):
    helm = Helm(kubeconfig="/k/config", context="kubeadmin", state_dir=tmp_path / "a")
    result = helm.run(["env"], cluster=False)
    assert result.ok
    env = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert env["HELM_REPOSITORY_CONFIG"].strip('"') == str(tmp_path / "a" / "helm" / "config" / "repositories.yaml")
    assert env["HELM_REPOSITORY_CACHE"].strip('"').startswith(str(tmp_path / "a"))


def test_cluster_is_always_named_explicitly(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/somebody/elses/config")
    helm = Helm(kubeconfig="/k/config", context="developer", state_dir=tmp_path)
    assert helm.cluster_args() == ["--kubeconfig", "/k/config", "--kube-context", "developer"]
    assert "KUBECONFIG" not in helm.env()


def test_output_is_streamed_line_by_line(tmp_path):
    seen = []
    helm = Helm(kubeconfig=None, context=None, state_dir=tmp_path)
    result = helm.run(["version"], cluster=False, on_line=seen.append)
    assert result.ok and seen and seen[0] in result.stdout


def test_failure_reason_is_helms_error_line(tmp_path):
    helm = Helm(kubeconfig=None, context=None, state_dir=tmp_path)
    result = helm.run(["show", "chart", str(tmp_path / "missing-chart")], cluster=False)
    assert not result.ok
    assert result.error.startswith("Error:") and "missing-chart" in result.error


def test_missing_helm_is_one_clear_sentence(tmp_path):
    helm = Helm(kubeconfig=None, context=None, state_dir=tmp_path, binary=str(tmp_path / "no-helm"))
    with pytest.raises(LabError, match="helm is not installed"):
        helm.run(["version"], cluster=False)


def test_a_hung_command_is_stopped_at_the_timeout(tmp_path):
    # Any executable will do to exercise the timeout path; python sleeping stands in for a hung helm.
    helm = Helm(kubeconfig=None, context=None, state_dir=tmp_path, binary=sys.executable)
    with pytest.raises(LabError, match="did not finish within 1 s"):
        helm.run(["-c", "import time; time.sleep(30)"], cluster=False, timeout=1)
