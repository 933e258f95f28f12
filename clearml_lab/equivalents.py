"""The recipe's `oc` commands as the tools the lab installs can run them (kubectl, helm), for a learner without `oc`.

``equivalent("oc new-project clearml")`` is a kubectl command that creates what `oc` creates — a ProjectRequest, so
OpenShift makes the project with its UID range, not a bare namespace. Commands that are already kubectl-compatible
(`oc get`, `oc delete`, `oc logs`, …) become the same kubectl command. None: not an `oc` command.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

KUBECTL_VERBS = {
    "get",
    "delete",
    "logs",
    "describe",
    "apply",
    "create",
    "patch",
    "label",
    "annotate",
    "rollout",
    "scale",
    "exec",
    "wait",
    "explain",
    "edit",
    "set",
    "auth",
}


def oc_missing() -> bool:
    return shutil.which("oc") is None


def _create(obj: dict, namespace: str | None = None) -> str:
    ns = f" -n {namespace}" if namespace else ""
    return f"echo {shlex.quote(json.dumps(obj, separators=(',', ':')))} | kubectl create{ns} -f -"


def _option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        if arg in names and i + 1 < len(args):
            return args[i + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _scc_binding(verb: str, args: list[str]) -> str | None:
    # oc adm policy add-scc-to-user SCC -z SA [-n NS] binds the ClusterRole system:openshift:scc:SCC to the service
    # account, in a binding of that same name (a RoleBinding with -n): created, or the subject added to it.
    scc = args[0] if args else None
    sa, ns = _option(args, "-z", "--serviceaccount"), _option(args, "-n", "--namespace")
    if not (scc and sa):
        return None
    role = f"system:openshift:scc:{scc}"
    kind = "rolebinding" if ns else "clusterrolebinding"
    where = f" -n {ns}" if ns else ""
    subject = f"--serviceaccount={ns or '<project>'}:{sa}"
    if verb == "add-scc-to-user":
        return (
            f"kubectl create {kind} {role} --clusterrole={role} {subject}{where} 2>/dev/null || "
            f"kubectl set subject {kind} {role} {subject}{where}"
        )
    if not ns:
        return None  # a cluster-wide binding shared with others: kubectl cannot take one subject out of it simply
    return (
        f"kubectl delete rolebinding {role}{where} --ignore-not-found   # the {scc} grant of every service "
        f"account in {ns}"
    )


def equivalent(command: str, namespace: str | None = None) -> str | None:
    """The kubectl/helm command that does what the `oc` command does (comments after `#` are kept). ``namespace``:
    the project `oc` would act in (its current project, which `oc new-project` switched to) when none is given."""
    text, _, comment = command.partition("   #")
    text = text.strip()
    tail = f"   #{comment}" if comment else ""
    kubectl = f"kubectl -n {namespace}" if namespace and not re.search(r"\s(-n|--namespace)[\s=]", text) else "kubectl"
    if "$(oc " in text:  # an oc query inside a shell command (curl http://$(oc get route …))
        return text.replace("$(oc ", f"$({kubectl} ") + tail
    try:
        words = shlex.split(text)
    except ValueError:
        return None
    if len(words) < 2 or words[0] != "oc":
        return None
    verb, args = words[1], words[2:]
    if verb == "new-project" and args:
        return (
            _create({"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest", "metadata": {"name": args[0]}})
            + tail
        )
    if verb == "expose" and args and args[0].startswith(("svc/", "service/")):
        service = args[0].split("/", 1)[1]
        ns = _option(args, "-n", "--namespace") or namespace
        return (
            _create(
                {
                    "apiVersion": "route.openshift.io/v1",
                    "kind": "Route",
                    "metadata": {"name": service},
                    "spec": {"to": {"kind": "Service", "name": service}},
                },
                ns,
            )
            + tail
        )
    if (
        verb == "adm"
        and len(args) >= 2
        and args[0] == "policy"
        and args[1] in ("add-scc-to-user", "remove-scc-from-user")
    ):
        found = _scc_binding(
            args[1], args[2:] if _option(args, "-n", "--namespace") or not namespace else [*args[2:], "-n", namespace]
        )
        return found + tail if found else None
    if verb == "whoami":
        return "kubectl auth whoami" + tail
    if verb in KUBECTL_VERBS:
        return f"{kubectl} " + text[len("oc ") :] + tail
    return None


_OC_IN_TEXT = re.compile(r"(?:(?<=[\s:`(])|^)oc [a-z]")


def with_equivalent(text: str) -> str:
    """A sentence that ends with an `oc` command (a diagnosis's fix), followed — when `oc` is not on PATH — by the
    kubectl command that does the same."""
    if not oc_missing():
        return text
    match = None
    for match in _OC_IN_TEXT.finditer(text):  # noqa: B007 — the last oc command in the text is the fix
        pass
    if match is None:
        return text
    command = text[match.start() :].rstrip(" .`)")
    same = equivalent(command)
    return f"{text} (no oc here: $ {same})" if same else text
