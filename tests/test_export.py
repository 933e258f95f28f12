"""The hand-off bundle's pure parts: values with a reason per key, the files a spec renders, writing them without
partial state, and the comparison with live objects (issue 16)."""

import json

import pytest
import yaml

from clearml_lab import export
from clearml_lab.errors import UsageError
from clearml_lab.export import BundleSpec, Difference, GrantSpec


def _spec(**changes) -> BundleSpec:
    values = {
        "apiserver": {"podSecurityContext": {"runAsUser": 0}, "service": {"type": "ClusterIP"}},
        "mongodb": {"image": {"repository": "bitnamilegacy/mongodb"}, "podSecurityContext": {"enabled": False}},
        "elasticsearch": {"esConfig": {"elasticsearch.yml": "xpack.security.enabled: false\n"}},
        "clearml": {"existingSecret": "clearml-credentials"},
    }
    reasons = {
        ("apiserver", "podSecurityContext", "runAsUser"): "The image must run as root.",
        ("apiserver", "service", "type"): "The image must run as root.",
        ("mongodb", "image", "repository"): "Bitnami moved its images.",
        ("mongodb", "podSecurityContext", "enabled"): "Run under the project's UID.",
        ("elasticsearch", "esConfig", "elasticsearch.yml"): "No mmap.",
        ("clearml", "existingSecret"): "Public keys.",
    }
    spec = dict(
        namespace="clearml",
        release="clearml",
        chart_version="7.14.4",
        repository="http://charts.example",
        profile="hardened",
        kube_version="v1.32.5",
        api_versions=("apps/v1", "apps/v1/Deployment", "v1"),
        openshift_version="4.19",
        values=values,
        reasons=reasons,
        grants=(
            GrantSpec("anyuid", "clearml-webserver", ("Deployment/clearml-webserver",), "root."),
            GrantSpec("anyuid", "clearml-apiserver", ("Deployment/clearml-apiserver",), "root too."),
        ),
        profile_description="Least privilege.",
    )
    spec.update(changes)
    return BundleSpec(**spec)


# ---- values and their reasons ------------------------------------------------------------------------------------
def test_each_leaf_gets_the_reason_of_the_latest_layer_that_sets_it_and_edits_are_named():
    layers = [
        (
            {"apiserver": {"service": {"type": "ClusterIP"}}, "redis": {"enabled": True}},
            lambda path: f"profile says so at {'.'.join(path)}",
        ),
        ({"redis": {"image": {"repository": "bitnamilegacy/redis"}}}, "Bitnami moved."),
        ({"apiserver": {"service": {"type": "NodePort"}}}, "Your override."),
    ]
    values = {
        "apiserver": {"service": {"type": "NodePort"}},
        "redis": {"enabled": True, "image": {"repository": "bitnamilegacy/redis"}, "replicas": 3},
    }
    reasons = export.value_reasons(values, layers, {("redis",): "three of them, for the demo"})
    assert reasons == {
        ("apiserver", "service", "type"): "Your override.",
        ("redis", "enabled"): "profile says so at redis.enabled",
        ("redis", "image", "repository"): "Bitnami moved.",
        ("redis", "replicas"): "Your own edit of the lab's values.yaml: three of them, for the demo.",
    }


def test_a_reason_is_written_once_above_the_outermost_key_it_explains():
    values = {"a": {"x": 1, "y": 2}, "b": {"p": 1, "q": 2, "r": 3, "s": 4}, "c": 1}
    reasons = {
        ("a", "x"): "R",
        ("a", "y"): "R",
        ("b", "p"): "S",
        ("b", "q"): "T",
        ("b", "r"): "T",
        ("b", "s"): "S",
        ("c",): "R",
    }
    # below the top level, siblings in a row with the same reason share the comment above the first of them
    assert export.comment_placement(values, reasons) == {
        ("a",): "R",
        ("b", "p"): "S",
        ("b", "q"): "T",
        ("b", "s"): "S",
        ("c",): "R",
    }


def test_commented_values_load_back_to_the_same_values_with_their_comments():
    spec = _spec()
    text = export.values_text(spec)
    assert yaml.safe_load(text) == spec.values
    lines = text.splitlines()
    assert lines[lines.index("apiserver:") - 1] == "# The image must run as root."
    assert "  # Bitnami moved its images." in lines  # mongodb's keys have two reasons: each above its own key
    assert "    elasticsearch.yml: |" in lines  # an embedded file stays readable
    assert export.key_comments(text)[("clearml",)] == "Public keys."


def test_key_comments_read_the_comment_block_right_above_a_key():
    text = "# file header\n\n# about a\n# continued\na:\n  # about b\n  b: 1\n  c: 2\n"
    assert export.key_comments(text) == {("a",): "about a continued", ("a", "b"): "about b"}
    assert export.nearest_comment(export.key_comments(text), ("a", "c")) == "about a continued"


# ---- the files ---------------------------------------------------------------------------------------------------
def test_the_same_spec_renders_byte_identical_sorted_files():
    first, second = export.render(_spec()), export.render(_spec())
    assert first == second
    assert list(first) == sorted(first)
    assert set(first) == {
        "README.md",
        "app/.gitignore",
        "app/kustomization.yaml",
        "app/values.yaml",
        "platform/kustomization.yaml",
        "platform/namespace.yaml",
        "platform/scc-anyuid-clearml-apiserver.yaml",
        "platform/scc-anyuid-clearml-webserver.yaml",
    }


def test_platform_has_the_namespace_without_allocated_ranges_and_one_annotated_rolebinding_per_grant():
    files = export.render(_spec(admin="group:ml-platform"))
    kustomization = yaml.safe_load(files["platform/kustomization.yaml"])
    assert kustomization["resources"] == [
        "admin.yaml",
        "namespace.yaml",
        "scc-anyuid-clearml-apiserver.yaml",
        "scc-anyuid-clearml-webserver.yaml",
    ]
    namespace = yaml.safe_load(files["platform/namespace.yaml"])
    assert set(namespace["metadata"]["annotations"]) == {"openshift.io/display-name", "openshift.io/description"}
    binding = yaml.safe_load(files["platform/scc-anyuid-clearml-apiserver.yaml"])
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "system:openshift:scc:anyuid",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "clearml-apiserver", "namespace": "clearml"}]
    assert binding["metadata"]["annotations"]["clearml-lab.io/reason"] == "root too."
    # recorded as the lab records the grants it makes, so scc undo and cleanup treat it as the lab's
    assert json.loads(binding["metadata"]["annotations"]["clearml-lab.io/added-subjects"]) == [
        "ServiceAccount:clearml:clearml-apiserver"
    ]
    admin = yaml.safe_load(files["platform/admin.yaml"])
    assert admin["roleRef"]["name"] == "admin"
    assert admin["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-platform"}]


def test_app_kustomization_pins_chart_release_namespace_cluster_and_skips_tests():
    chart = yaml.safe_load(export.render(_spec())["app/kustomization.yaml"])["helmCharts"]
    assert chart == [
        {
            "name": "clearml",
            "repo": "http://charts.example",
            "version": "7.14.4",
            "releaseName": "clearml",
            "namespace": "clearml",
            "valuesFile": "values.yaml",
            "kubeVersion": "v1.32.5",
            "apiVersions": ["apps/v1", "apps/v1/Deployment", "v1"],
            "skipTests": True,
        }
    ]


def test_readme_says_who_applies_what_and_how_to_make_the_secret_without_holding_one():
    readme = export.render(_spec())["README.md"]
    order = [
        readme.index(s)
        for s in (
            "oc apply -k platform/",
            "oc create secret generic clearml-credentials",
            "kubectl kustomize --enable-helm app/ | oc apply -n clearml -f -",
        )
    ]
    assert order == sorted(order)
    assert "--helm-command" in readme and "kustomize.buildOptions: --enable-helm" in readme
    for key in export.CREDENTIAL_KEYS:
        assert f'--from-literal={key}="$(openssl rand -hex 24)"' in readme


@pytest.mark.parametrize(
    "admin, subject",
    [("alice", {"kind": "User", "name": "alice"}), ("group:ml team", None), ("group:", None), ("", None)],
)
def test_admin_is_a_user_or_a_group(admin, subject):
    if subject is None:
        with pytest.raises(UsageError, match="names nobody"):
            export.admin_subject(admin)
    else:
        assert export.admin_subject(admin) == {"apiGroup": "rbac.authorization.k8s.io", **subject}


def test_a_bundle_that_would_name_the_server_or_a_token_is_refused():
    files = export.render(_spec(repository="https://api.cluster.example:6443"))
    with pytest.raises(export.LabError, match="nothing was written"):
        export.refuse_leaks(files, ["https://api.cluster.example:6443"])
    export.refuse_leaks(export.render(_spec()), ["https://api.cluster.example:6443", "sha256~secret-token"])


# ---- writing -----------------------------------------------------------------------------------------------------
def test_write_refuses_a_non_empty_directory_and_leaves_it_as_it_was(tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"is not empty: .*--force"):
        export.write(export.render(_spec()), out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]  # no temporary directory left behind


def test_force_replaces_the_bundle_and_keeps_everything_else(tmp_path):
    out = tmp_path / "gitops"
    export.write(export.render(_spec(admin="alice")), out)
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    export.write(export.render(_spec()), out, force=True)
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (out / "platform" / "admin.yaml").exists()  # a file of the old bundle does not linger
    written = {
        p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    assert written == export.render(_spec())


def test_an_unwritable_directory_is_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError) as err:
        export.write(export.render(_spec()), blocker / "bundle")
    message = str(err.value)
    assert message.startswith(f"cannot write to {blocker / 'bundle'}") and "\n" not in message
    assert message.endswith("choose a directory you may write to.")


def test_read_bundle_names_what_is_missing(tmp_path):
    with pytest.raises(UsageError, match=r"is not an export bundle \(platform/kustomization.yaml is missing\)"):
        export.read_bundle(tmp_path)
    export.write(export.render(_spec()), tmp_path / "b")
    bundle = export.read_bundle(tmp_path / "b")
    assert bundle.namespace == "clearml" and bundle.chart["version"] == "7.14.4"
    assert [o["kind"] for o in bundle.platform] == ["Namespace", "RoleBinding", "RoleBinding"]


# ---- comparing with live objects ---------------------------------------------------------------------------------
def test_fields_the_cluster_adds_are_not_differences_but_changed_ones_are_named():
    want = {
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"helm.sh/chart": "clearml-7.14.4"}},
                "spec": {
                    "containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 80}]}],
                    "nodeSelector": {},
                },
            },
        }
    }
    have = {
        "spec": {
            "replicas": 1,
            "strategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"helm.sh/chart": "clearml-7.3.1"}},
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "image": "x:1",
                            "imagePullPolicy": "Always",
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        }
                    ]
                },
            },
        },
        "status": {"readyReplicas": 1},
    }
    assert export.field_differences(want, have) == []
    have["spec"]["replicas"] = 2
    have["spec"]["template"]["spec"]["containers"][0]["image"] = "x:2"
    assert export.field_differences(want, have) == [
        "spec.replicas is 2 on the cluster, 1 in the bundle",
        "spec.template.spec.containers[a].image is x:2 on the cluster, x:1 in the bundle",
    ]
    have["spec"]["template"]["spec"]["containers"].append({"name": "b"})
    assert (
        export.field_differences(want, have)[-1]
        == "spec.template.spec.containers has 2 item(s) on the cluster, 1 in the bundle"
    )


def test_a_secrets_values_are_never_shown():
    found = export.field_differences({"data": {"k": "bmV3"}}, {"data": {"k": "b2xk"}}, secret=True)
    assert found == ["data.k differs (values of a Secret are not shown)"]
    missing = export.field_differences({"data": {"k": "bmV3"}}, {"data": {}}, secret=True)
    assert missing == ["data.k is not set on the cluster, the bundle sets it"]


def test_platform_differences_name_a_missing_binding_and_an_extra_grant():
    objects = list(export.platform_objects(_spec()).values())
    labels = [export._label(o) for o in objects]
    live = dict(zip(labels, objects, strict=True))
    granted = {("anyuid", "clearml-apiserver"), ("anyuid", "clearml-webserver")}
    assert export.platform_differences(objects, live, granted) == []
    gone = "RoleBinding/system:openshift:scc:anyuid:clearml-webserver"
    live[gone] = None
    assert export.platform_differences(objects, live, granted | {("privileged", "default")}) == [
        Difference(gone, "missing on the cluster (clearml-webserver may still use anyuid through another binding)"),
        Difference("grant privileged to default", "on the cluster but not in the bundle (an extra grant)"),
    ]
    assert export.platform_differences(objects, live, {("anyuid", "clearml-apiserver")}) == [
        Difference(gone, "missing on the cluster, so clearml-webserver may not use anyuid")
    ]


def test_chart_version_difference_names_its_source():
    assert export.chart_version_difference("7.14.4", "7.14.4", "helm release clearml") == []
    assert export.chart_version_difference("7.14.4", None, "") == []
    assert export.chart_version_difference("7.14.4", "7.3.1", "helm release clearml") == [
        Difference("chart version", "helm release clearml is clearml 7.3.1, the bundle pins 7.14.4")
    ]


def test_value_differences_name_each_key_against_the_release():
    bundle = {
        "clearml": {"existingSecret": "clearml-credentials"},
        "apiserver": {"service": {"type": "ClusterIP"}},
        "mongodb": {"podSecurityContext": {"enabled": False}},
    }
    release = {
        "apiserver": {"service": {"type": "NodePort"}},
        "mongodb": {"podSecurityContext": {"enabled": False}},
        "redis": {"enabled": True},
    }
    assert export.value_differences(bundle, release, "helm release clearml") == [
        Difference("value apiserver.service.type", "NodePort in helm release clearml, ClusterIP in the bundle"),
        Difference(
            "value clearml.existingSecret", "not set in helm release clearml, clearml-credentials in the bundle"
        ),
        Difference("value redis.enabled", "true in helm release clearml, not set in the bundle"),
    ]
    assert export.value_differences(bundle, bundle, "helm release clearml") == []


def test_credentials_in_the_values_are_withheld_and_never_shown():
    values = {
        "clearml": {
            "apiserverSecret": "s3cr3t",
            "apiserverKey": "AKIA",
            "existingSecret": "mine",
            "cookieName": "clearml-token-k8s",
        },
        "mongodb": {"auth": {"rootPassword": "pw", "usePasswordFiles": False}},
        "apiserver": {"ingress": {"tlsSecretName": "tls"}},
    }
    kept, withheld = export.withhold_secrets(values)
    assert withheld == (
        ("clearml", "apiserverSecret"),
        ("clearml", "apiserverKey"),
        ("mongodb", "auth", "rootPassword"),
    )
    assert kept == {
        "clearml": {"existingSecret": "mine", "cookieName": "clearml-token-k8s"},
        "mongodb": {"auth": {"usePasswordFiles": False}},
        "apiserver": {"ingress": {"tlsSecretName": "tls"}},
    }
    assert values["clearml"]["apiserverSecret"] == "s3cr3t"  # the input is not changed
    shown = export.value_differences({}, {"mongodb": {"auth": {"rootPassword": "pw"}}}, "helm release clearml")
    assert shown == [
        Difference(
            "value mongodb.auth.rootPassword", "a credential (not shown) in helm release clearml, not set in the bundle"
        )
    ]


def test_a_failure_while_replacing_a_bundle_puts_the_old_one_back(tmp_path, monkeypatch):
    out = tmp_path / "gitops"
    export.write(export.render(_spec(admin="alice")), out)
    (out / "keep.txt").write_text("mine")
    before = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_replace, calls = export.os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 5:  # the three old entries set aside, the new README.md in place, then platform/ fails
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(export.os, "replace", failing_replace)
    with pytest.raises(UsageError, match=r"cannot write to .*gitops \(No space left on device\)"):
        export.write(export.render(_spec()), out, force=True)
    after = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["gitops"]


def test_a_new_bundle_directory_is_readable_like_any_other(tmp_path):
    umask = export.os.umask(0o022)
    try:
        export.write(export.render(_spec()), tmp_path / "b")
    finally:
        export.os.umask(umask)
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o755
