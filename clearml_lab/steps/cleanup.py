"""Step 9: leave nothing behind — release, volumes, routes, the lab's SCC grants, the project."""

from __future__ import annotations

from .. import progress
from ..errors import LabError
from ..kube import ApiFailure, wait_for
from ..oc import lab_grants, remove_scc_from_user, visible_project
from ..workshop_mode import seat_or_none
from .base import Check, Step, StepResult
from .install import release_status
from .project import delete_project
from .routes import service_names


def leftovers(lab) -> list[str]:
    """Everything of this project still on the cluster, cluster-scoped objects included; empty means clean."""
    kube, ns = lab.kube(), lab.namespace
    found = []
    if visible_project(kube, ns) is not None:
        found.append(f"project/{ns}")
    sa_prefix = f"system:serviceaccount:{ns}:"
    try:
        for binding in kube.list("clusterrolebindings").get("items", []):
            for subject in binding.get("subjects") or []:
                if (subject.get("kind") == "ServiceAccount" and subject.get("namespace") == ns) or str(
                    subject.get("name", "")
                ).startswith(sa_prefix):
                    found.append(f"clusterrolebinding/{binding['metadata']['name']} names {subject['name']}")
        for volume in kube.list("persistentvolumes").get("items", []):
            claim = volume.get("spec", {}).get("claimRef") or {}
            if claim.get("namespace") == ns:
                found.append(f"persistentvolume/{volume['metadata']['name']} (claimed by {claim.get('name')})")
        for scc in kube.list("securitycontextconstraints").get("items", []):
            for user in scc.get("users") or []:
                if user.startswith(sa_prefix):
                    found.append(f"scc/{scc['metadata']['name']} names {user}")
    except ApiFailure as err:
        if err.code != 403:
            raise
        found.append("cluster-scoped objects not checked: you may not list them (ask your cluster admin)")
    return found


LEARNER_OBJECTS = (("persistentvolumeclaims", "persistentvolumeclaim"), ("routes", "route"), ("pods", "pod"))


def workshop_leftovers(lab) -> list[str]:
    """In a workshop project, what the learner made and is still there; the project and the instructor's grants
    stay, and the cluster-scoped rest (volumes) is the instructor's teardown's to prove."""
    kube, ns = lab.kube(), lab.namespace
    found = [f"release/{lab.settings.release}"] if release_status(lab.helm(), ns, lab.settings.release) else []
    for resource, kind in LEARNER_OBJECTS:
        found += [f"{kind}/{o['metadata']['name']}" for o in kube.list(resource, ns).get("items", [])]
    return found


class Cleanup(Step):
    name = "cleanup"
    title = "Clean up"
    explanation = (
        "helm uninstall removes what the chart created but keeps the volume claims of StatefulSets, and "
        "SCC grants and Routes were never part of the release. Cleanup removes them in order — release, "
        "claims (and so their volumes), routes, only the grants the lab made, then the project — and returns "
        "only when the project is gone."
    )

    def __init__(self, timeout: float = 300):
        self.timeout = timeout

    def commands(self, lab) -> list[str]:
        ns, release = lab.namespace, lab.settings.release
        lines = [
            f"helm uninstall {release} --namespace {ns}",
            f"oc delete pvc --all -n {ns}",
            "oc delete route " + " ".join(service_names(lab)) + f" -n {ns}",
        ]
        if seat_or_none(lab):
            return lines + [f"# project {ns} and its SCC grants stay: your instructor's (workshop mode)"]
        try:
            grants = lab_grants(lab.kube(), ns)
        except LabError:  # commands() must stay readable even when the cluster is not reachable
            grants = []
        lines += [
            f"oc adm policy remove-scc-from-user {scc} -z {sa}" + (f" -n {ns}" if namespaced else "")
            for scc, sa, namespaced in grants
        ]
        return lines + [f"oc delete project {ns}"]

    def run(self, lab, on_line=None) -> StepResult:
        kube, ns, out = lab.kube(), lab.namespace, []

        def say(line):
            out.append(line)
            if on_line:
                on_line(line)

        helm = lab.helm()
        present = visible_project(kube, ns) is not None
        if present and release_status(helm, ns, lab.settings.release):
            progress.report(f"helm uninstall {lab.settings.release}: waiting until its objects are gone")
            # helm's one line is said once, through say(); streaming it as well printed it twice.
            result = helm.run(["uninstall", lab.settings.release, "--namespace", ns, "--wait"])
            say(result.stdout.strip() if result.ok else f"helm uninstall failed: {result.error}")
        if present:
            for pvc in kube.list("persistentvolumeclaims", ns).get("items", []):
                kube.delete("persistentvolumeclaims", pvc["metadata"]["name"], ns)
                say(f'persistentvolumeclaim "{pvc["metadata"]["name"]}" deleted')
            for name in service_names(lab):
                if kube.delete("routes", name, ns) is not None:
                    say(f'route.route.openshift.io "{name}" deleted')
        if lab.workshop:
            progress.report(f"waiting for the pods of project {ns} to terminate")
            if not wait_for(kube, "pods", lambda items: not items, namespace=ns, timeout=self.timeout):
                say(f"pods are still terminating after {int(self.timeout)} s")
            say(lab.workshop.kept(f"project {ns} and its SCC grants"))
            rest = workshop_leftovers(lab)
        else:
            for scc, sa, namespaced in lab_grants(kube, ns):
                changed, line = remove_scc_from_user(kube, scc, sa, ns, namespaced=namespaced)
                if changed:
                    say(line)
            changed, line = delete_project(lab, timeout=self.timeout)
            say(line)
            rest = leftovers(lab)
        checks = tuple(Check(item, False, "still there") for item in rest)
        ok = not rest
        return StepResult(
            self.name,
            "run",
            ok,
            "nothing of the lab is left on the cluster." if ok else f"{len(rest)} object(s) left behind.",
            checks,
            changed=bool(out),
            output=tuple(out),
            fix=None if ok else "run cleanup again; if it persists, ask your cluster admin",
            target=lab.describe(),
        )

    def check(self, lab, timeout: float = 60) -> StepResult:
        rest = workshop_leftovers(lab) if lab.workshop else leftovers(lab)
        return StepResult(
            self.name,
            "check",
            not rest,
            "nothing of the lab is left on the cluster." if not rest else f"{len(rest)} object(s) remain.",
            tuple(Check(r, False, "still there") for r in rest),
            target=lab.describe(),
        )

    def undo(self, lab, on_line=None) -> StepResult:
        return StepResult(
            self.name,
            "undo",
            True,
            "cleanup cannot be undone: run the recipe again from its first "
            "step, `clearml-lab run helm-repo` (notebook 01).",
            target=lab.describe(),
            neutral=True,
        )
