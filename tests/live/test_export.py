"""Issue 16 on running practice clusters: the recipe handed off as a bundle. The lab plans (values and SCC grants,
nothing applied) and exports; a platform team applies platform/ as kubeadmin, creates the ClearML Secret, renders app/
with kustomize and helm 3 (as Argo CD does) and applies it; then every pod of the release is Ready, the lab's own
SCC check passes, and `export --check` finds no difference — until a RoleBinding is deleted or a value changed."""

import json
import re
import uuid
from pathlib import Path

import pytest
import yaml

from clearml_lab import export
from clearml_lab.export import CREDENTIAL_KEYS
from clearml_lab.kube import Kube, wait_for

from .recipe_helpers import HELM3, cli, lab_home_for

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def _ns(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _files(path: Path) -> dict:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _plan_and_export(home, ns, out, *options):
    """The lab plans (values written locally, grants computed) and exports; nothing is applied."""
    _ok(cli(home, "--namespace", ns, *options, "run", "values"))
    return _ok(cli(home, "--namespace", ns, *options, "export", "--out", str(out)))


def _apply_as_platform_team(cluster, out: Path, ns: str) -> None:
    cluster.run("kubectl", "apply", "-k", str(out / "platform"))
    values = yaml.safe_load((out / "app" / "values.yaml").read_text())
    secret = values["clearml"]["existingSecret"]
    cluster.run(
        "kubectl",
        "create",
        "secret",
        "generic",
        secret,
        "-n",
        ns,
        *(f"--from-literal={key}={uuid.uuid4().hex}" for key in CREDENTIAL_KEYS),
    )
    rendered = cluster.run("kubectl", "kustomize", "--enable-helm", "--helm-command", str(HELM3), str(out / "app"))
    cluster.run("kubectl", "apply", "-n", ns, "-f", "-", input=rendered.stdout)
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def _by_name(objects) -> dict:
    """Objects by Kind/name; empty metadata maps dropped, as kustomize drops them (`annotations: {}`)."""
    found = {}
    for obj in objects:
        meta = obj["metadata"]
        for key in ("annotations", "labels"):
            if meta.get(key) == {}:
                del meta[key]
        found[f"{obj['kind']}/{meta['name']}"] = obj
    return found


def _all_ready(kube, ns, timeout=180) -> bool:
    def ready(items):
        return bool(items) and all(
            (i.get("status", {}).get("readyReplicas") or 0) >= i["spec"].get("replicas", 1) for i in items
        )

    return wait_for(kube, "deployments", ready, namespace=ns, timeout=timeout) and wait_for(
        kube, "statefulsets", ready, namespace=ns, timeout=timeout
    )


def _pods_ready(kube, ns) -> list[str]:
    """The pods of the release that are not Ready (empty: all are)."""
    pods = kube.list("pods", ns)["items"]
    assert pods
    return [
        p["metadata"]["name"]
        for p in pods
        if not any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    ]


def _hand_off_works(cluster, home, ns, tmp_path, *options) -> Path:
    """The issue's check, up to a clean `export --check`; returns the bundle."""
    out, again = tmp_path / "bundle", tmp_path / "again"
    exported = _plan_and_export(home, ns, out, *options)
    assert "oc apply -k" in exported.stdout
    _ok(cli(home, "--namespace", ns, *options, "export", "--out", str(again)))
    assert _files(out) == _files(again), "two exports of the same state must be byte-identical"

    kube = Kube(cluster.api_client())
    assert kube.get_or_none("namespaces", ns) is None, "export must not create or grant anything"
    before = cli(home, "--namespace", ns, *options, "export", "--check", str(out))
    assert before.returncode == 1
    assert f"- Namespace/{ns}: missing on the cluster (apply platform/ first)" in before.stdout.splitlines()
    applied = _apply_as_platform_team(cluster, out, ns)
    # What export --check compares with is exactly what kustomize and helm 3 rendered for the platform team.
    entry = yaml.safe_load((out / "app" / "kustomization.yaml").read_text())["helmCharts"][0]
    compared = export.helm_template(
        entry["version"],
        entry["repo"],
        release=entry["releaseName"],
        namespace=ns,
        values_file=out / "app" / entry["valuesFile"],
        kube_version=entry["kubeVersion"],
        api_versions=entry["apiVersions"],
        skip_tests=entry["skipTests"],
    )
    assert _by_name(compared) == _by_name(applied)
    assert not [name for name in _by_name(applied) if name.startswith("Pod/")], "test pods must not be applied"
    assert _all_ready(kube, ns)
    assert _pods_ready(kube, ns) == []
    _ok(cli(home, "--namespace", ns, *options, "check", "scc"))
    checked = _ok(cli(home, "--namespace", ns, *options, "export", "--check", str(out)))
    assert "no difference" in checked.stdout
    return out


def test_seed_bundle_applied_by_a_platform_team_runs_and_its_check_names_each_drift(practice_cluster, home, tmp_path):
    ns = _ns("ho")
    out = _hand_off_works(practice_cluster, home, ns, tmp_path)
    kube = Kube(practice_cluster.api_client())

    # A deleted RoleBinding is named, with what it takes away.
    binding = "system:openshift:scc:privileged:clearml-elastic"
    practice_cluster.run("kubectl", "delete", "rolebinding", binding, "-n", ns)
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert (
        f"- RoleBinding/{binding}: missing on the cluster, so clearml-elastic may not use privileged"
        in drift.stdout.splitlines()
    )
    assert "1 difference(s)" in drift.stdout
    practice_cluster.run("kubectl", "apply", "-k", str(out / "platform"))
    _ok(cli(home, "--namespace", ns, "export", "--check", str(out)))

    # A value changed in the bundle is named by the field it changes on the cluster.
    values_file = out / "app" / "values.yaml"
    original = values_file.read_text()
    values = yaml.safe_load(original)
    values["apiserver"]["service"]["type"] = "NodePort"
    values_file.write_text(yaml.safe_dump(values))
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert drift.returncode == 1
    assert (
        "- Service/clearml-apiserver: spec.type is ClusterIP on the cluster, NodePort in the bundle"
        in drift.stdout.splitlines()
    ), drift.stdout
    values_file.write_text(original)

    # ... and so is a value changed on the cluster, and a grant made beside the bundle.
    practice_cluster.run("kubectl", "scale", "deployment/clearml-webserver", "--replicas=2", "-n", ns)
    practice_cluster.run(
        "kubectl",
        "create",
        "rolebinding",
        "extra",
        "-n",
        ns,
        "--clusterrole=system:openshift:scc:anyuid",
        f"--serviceaccount={ns}:default",
    )
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert drift.returncode == 1
    lines = drift.stdout.splitlines()
    assert "- Deployment/clearml-webserver: spec.replicas is 2 on the cluster, 1 in the bundle" in lines, lines
    assert "- grant anyuid to default: on the cluster but not in the bundle (an extra grant)" in lines, lines

    # The lab sees the bundle's grants as its own: its cleanup leaves nothing behind.
    practice_cluster.run("kubectl", "delete", "rolebinding", "extra", "-n", ns)
    cleaned = _ok(cli(home, "--namespace", ns, "run", "cleanup"))
    assert "nothing of the lab is left" in cleaned.stdout
    assert kube.get_or_none("namespaces", ns) is None


def test_hardened_bundle_needs_only_anyuid_for_the_clearml_accounts(practice_cluster, home, tmp_path):
    ns = _ns("hh")
    out = _hand_off_works(practice_cluster, home, ns, tmp_path, "--profile", "hardened")
    kustomization = yaml.safe_load((out / "platform" / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [
        "namespace.yaml",
        "scc-anyuid-clearml-apiserver.yaml",
        "scc-anyuid-clearml-fileserver.yaml",
        "scc-anyuid-clearml-webserver.yaml",
    ]
    values = yaml.safe_load((out / "app" / "values.yaml").read_text())
    assert values["elasticsearch"]["sysctlInitContainer"] == {"enabled": False}
    _ok(cli(home, "--namespace", ns, "run", "cleanup"))


def test_chart_7_3_1_on_openshift_4_15(cluster_4_15, tmp_path):
    home = lab_home_for(cluster_4_15, tmp_path / "home")
    ns = _ns("h731")
    out = _hand_off_works(cluster_4_15, home, ns, tmp_path, "--chart-version", "7.3.1")
    chart = yaml.safe_load((out / "app" / "kustomization.yaml").read_text())["helmCharts"][0]
    server = json.loads(cluster_4_15.run("kubectl", "version", "-o", "json").stdout)["serverVersion"]
    assert (chart["version"], chart["kubeVersion"]) == ("7.3.1", server["gitVersion"])
    # Chart 7.3.1's ClearML pods run as `default`: the grant follows them.
    assert (out / "platform" / "scc-anyuid-default.yaml").is_file()
    objects = yaml.safe_load_all(
        cluster_4_15.run("kubectl", "get", "deployment", "clearml-apiserver", "-n", ns, "-o", "yaml").stdout
    )
    assert next(objects)["metadata"]["labels"]["helm.sh/chart"] == "clearml-7.3.1"

    # Applied without helm, the chart version running is read from the objects' helm.sh/chart label.
    kustomization = out / "app" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("version: 7.3.1", "version: 7.14.4"))
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert drift.returncode == 1
    assert re.search(
        r"^- chart version: the helm.sh/chart label of \S+ is clearml 7.3.1, the bundle pins 7.14.4$",
        drift.stdout,
        re.M,
    ), drift.stdout


def test_a_lab_install_against_its_bundle_names_what_the_hand_off_does_differently(home, tmp_path):
    """The lab's own install (helm, `oc adm policy` grants, the chart's public keys) checked against the bundle
    exported from it: the differences are exactly what the hand-off changes, and the release's chart version and
    values are compared."""
    ns = _ns("hl")
    _ok(cli(home, "--namespace", ns, "run", "all"))
    out = tmp_path / "bundle"
    _ok(cli(home, "--namespace", ns, "export", "--out", str(out)))
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert drift.returncode == 1
    lines = drift.stdout.splitlines()
    assert (
        "- value clearml.existingSecret: not set in helm release clearml, clearml-credentials in the bundle" in lines
    ), lines
    bindings = [line for line in lines if line.startswith("- RoleBinding/")]
    assert bindings and all(line.endswith("through another binding)") for line in bindings), bindings
    assert not [line for line in lines if "chart version" in line or "grant " in line], lines

    # The release's chart version is the one compared (here against a bundle edited to pin another).
    kustomization = out / "app" / "kustomization.yaml"
    text = kustomization.read_text()
    kube_version = yaml.safe_load(text)["helmCharts"][0]["kubeVersion"]
    kustomization.write_text(
        text.replace("version: 7.14.4", "version: 7.3.1").replace(
            f"kubeVersion: {kube_version}", "kubeVersion: v1.28.15"
        )
    )
    drift = cli(home, "--namespace", ns, "export", "--check", str(out))
    assert (
        "- chart version: helm release clearml is clearml 7.14.4, the bundle pins 7.3.1" in drift.stdout.splitlines()
    ), drift.stdout
    _ok(cli(home, "--namespace", ns, "run", "cleanup"))


def test_the_bundle_holds_no_credential_no_kubeconfig_and_no_server_address(practice_cluster, home, tmp_path):
    ns = _ns("hs")
    out = tmp_path / "bundle"
    written = _ok(cli(home, "--namespace", ns, "run", "values"))
    values_file = Path(re.search(r"wrote (\S+values\.yaml)", written.stdout).group(1))
    with values_file.open("a") as handle:  # the learner put a key of their own in the values
        handle.write("clearml:\n  apiserverSecret: learners-own-secret-value\n")
    exported = _ok(cli(home, "--namespace", ns, "export", "--out", str(out), "--admin", "group:ml-platform"))
    assert (
        "The lab's values set clearml.apiserverSecret, a credential: it is left out of this bundle" in exported.stdout
    )
    text = "\n".join(data.decode() for data in _files(out).values())
    config = practice_cluster.config()
    forbidden = [
        practice_cluster.server,
        practice_cluster.token("kubeadmin"),
        practice_cluster.token("developer"),
        config["clusters"][0]["cluster"]["certificate-authority-data"][:40],
        "client-key-data",
        "token:",
        "practice-apiserver-secret-not-for-real-use",
        "PRACTICEAPISERVERKEY",
        "learners-own-secret-value",
    ]
    assert [f for f in forbidden if f in text] == []
    admin = yaml.safe_load((out / "platform" / "admin.yaml").read_text())
    assert admin["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-platform"}]
    namespace = yaml.safe_load((out / "platform" / "namespace.yaml").read_text())
    assert not [a for a in namespace["metadata"]["annotations"] if a.startswith("openshift.io/sa.scc.")]


def test_bad_output_directories_are_refused_in_one_sentence_and_left_as_they_were(home, tmp_path):
    ns = _ns("hb")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    refused = cli(home, "--namespace", ns, "export", "--out", str(taken))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"clearml-lab: {taken} is not empty: choose a new or empty directory, or pass --force to replace the "
        f"bundle in it."
    ]
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = cli(home, "--namespace", ns, "export", "--out", str(blocker / "bundle"))
    assert unwritable.returncode == 2
    lines = unwritable.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith(f"clearml-lab: cannot write to {blocker / 'bundle'}")
        and lines[0].endswith("choose a directory you may write to.")
    ), lines

    # --force replaces the bundle and keeps what else the directory holds.
    _ok(cli(home, "--namespace", ns, "export", "--out", str(taken), "--force"))
    assert (taken / "notes.txt").read_text() == "mine"
    assert (taken / "platform" / "kustomization.yaml").is_file()

    not_a_bundle = cli(home, "--namespace", ns, "export", "--check", str(tmp_path / "a-file"))
    assert not_a_bundle.returncode == 2
    assert "is not an export bundle" in not_a_bundle.stderr
    assert json.dumps(not_a_bundle.stderr).count("\\n") == 1  # one line
