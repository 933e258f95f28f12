"""Issue 14, item 7: for a learner without `oc`, every `oc` command a step card shows comes with a kubectl command
that works — run here with kubectl against the practice cluster, which answers as OpenShift does."""

import json
import shlex
import uuid

from clearml_lab.equivalents import equivalent

from .recipe_helpers import eventually


def _run(kubectl, command: str, context=None):
    """`echo JSON | kubectl ARGS`, `kubectl ARGS || kubectl ARGS` or `kubectl ARGS`, run without a shell (the JSON
    goes to kubectl's stdin; the second command of `||` runs when the first fails)."""
    command = command.split("   #")[0]
    if " || " in command:
        first, second = command.split(" || ", 1)
        done = _run_one(kubectl, first.replace(" 2>/dev/null", ""), context, check=False)
        return done if done.returncode == 0 else _run_one(kubectl, second, context)
    return _run_one(kubectl, command, context)


def _run_one(kubectl, command: str, context=None, check=True):
    payload = None
    if " | " in command:
        echo, command = command.split(" | ", 1)
        payload = shlex.split(echo)[1]
    words = shlex.split(command)
    assert words[0] == "kubectl", command
    return kubectl(*words[1:], input=payload, context=context, check=check)


def test_new_project_becomes_a_project_request_with_openshifts_uid_range(kubectl):
    ns = f"eq-{uuid.uuid4().hex[:6]}"
    command = equivalent(f"oc new-project {ns}")
    assert "ProjectRequest" in command and "Namespace" not in command
    _run(kubectl, command, context="developer")  # a self-provisioner, as a learner is
    project = json.loads(kubectl("get", "project", ns, "-o", "json", context="developer").stdout)
    assert project["metadata"]["annotations"].get("openshift.io/requester") == "developer"
    eventually(
        lambda: (
            "openshift.io/sa.scc.uid-range"
            in (json.loads(kubectl("get", "namespace", ns, "-o", "json").stdout)["metadata"].get("annotations") or {})
        ),
        what="the project's UID range, given to a requested project as to one `oc new-project` made",
    )
    kubectl("delete", "project", ns)


def test_expose_and_scc_grant_equivalents_create_what_oc_creates(kubectl, ns):
    kubectl("create", "service", "clusterip", "web", "--tcp=8080:80", "-n", ns)
    _run(kubectl, equivalent("oc expose svc/web", namespace=ns))
    route = json.loads(kubectl("get", "route", "web", "-n", ns, "-o", "json").stdout)
    assert (route["spec"]["to"]["kind"], route["spec"]["to"]["name"]) == ("Service", "web")
    for sa in ("db", "cache"):
        kubectl("create", "serviceaccount", sa, "-n", ns)
        assert not _may_use(kubectl, ns, sa, "anyuid")
        _run(kubectl, equivalent(f"oc adm policy add-scc-to-user anyuid -z {sa}", namespace=ns))
    assert _may_use(kubectl, ns, "db", "anyuid") and _may_use(kubectl, ns, "cache", "anyuid")  # one binding, two
    binding = json.loads(kubectl("get", "rolebinding", "system:openshift:scc:anyuid", "-n", ns, "-o", "json").stdout)
    assert sorted(s["name"] for s in binding["subjects"]) == ["cache", "db"]  # where oc (and the lab) put them
    _run(kubectl, equivalent("oc adm policy remove-scc-from-user anyuid -z db", namespace=ns))
    assert not _may_use(kubectl, ns, "db", "anyuid")


def _may_use(kubectl, ns: str, sa: str, scc: str) -> bool:
    """What SCC admission asks RBAC: may this service account `use` the SCC in the project (a SubjectAccessReview)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": f"system:serviceaccount:{ns}:{sa}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}"],
            "resourceAttributes": {
                "verb": "use",
                "group": "security.openshift.io",
                "resource": "securitycontextconstraints",
                "name": scc,
                "namespace": ns,
            },
        },
    }
    out = kubectl("create", "-f", "-", "-o", "json", input=json.dumps(review))
    return json.loads(out.stdout)["status"].get("allowed", False)


def test_kubectl_compatible_commands_keep_their_arguments_and_get_the_project():
    assert equivalent("oc delete pvc --all -n clearml", namespace="other") == "kubectl delete pvc --all -n clearml"
    assert (
        equivalent("oc get route r -o jsonpath='{.spec.host}'", namespace="p")
        == "kubectl -n p get route r -o jsonpath='{.spec.host}'"
    )
    assert equivalent("helm repo update") is None and equivalent("# oc new-project x") is None
