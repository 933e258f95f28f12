"""Step 3: a project (namespace) for ClearML."""

from __future__ import annotations

from .. import progress
from ..kube import wait_for
from ..oc import new_project, visible_project
from ..workshop_mode import seat_or_none
from .base import Check, Step, StepResult, fix_by

UID_RANGE = "openshift.io/sa.scc.uid-range"


def delete_project(lab, timeout: float = 180) -> tuple[bool, str]:
    """Delete the project and return only when it is gone, not Terminating."""
    kube, ns = lab.kube(), lab.namespace
    if visible_project(kube, ns) is None:
        return False, f'project "{ns}" does not exist'
    kube.delete("projects", ns)
    progress.report(f"project {ns} is Terminating; waiting until it is gone")
    gone = wait_for(kube, "projects", lambda items: all(p["metadata"]["name"] != ns for p in items), timeout=timeout)
    if not gone:
        return True, f'project "{ns}" is still Terminating after {int(timeout)} s'
    return True, f'project.project.openshift.io "{ns}" deleted'


class Project(Step):
    name = "project"
    title = "Create the project"
    explanation = (
        "An OpenShift project is a namespace with extras: when it is created, OpenShift gives it its own range "
        "of user IDs (the openshift.io/sa.scc.uid-range annotation) and SELinux labels. Pods are later admitted "
        "or refused against that range, which is why MongoDB and Redis, asking for UID 1001, need a grant."
    )

    def commands(self, lab) -> list[str]:
        if seat_or_none(lab):
            return [f"# oc new-project {lab.namespace}   (done by your instructor: workshop mode)"]
        return [f"oc new-project {lab.namespace}"]

    def run(self, lab, on_line=None) -> StepResult:
        if lab.workshop:
            line = lab.workshop.skipped(f"created project {lab.namespace} for you and made you its admin")
            if on_line:
                on_line(line)
            result = self.check(lab)
            return result.as_run(lab.describe(), (line,))
        created, line = new_project(lab.kube(), lab.namespace)
        if on_line:
            on_line(line)
        summary = f"project {lab.namespace} created." if created else f"project {lab.namespace} already exists."
        return StepResult(self.name, "run", True, summary, changed=created, output=(line,), target=lab.describe())

    def check(self, lab, timeout: float = 60) -> StepResult:
        kube, ns = lab.kube(), lab.namespace
        project = visible_project(kube, ns)
        if project is None:
            return StepResult(
                self.name, "check", False, f"project {ns} does not exist.", fix=fix_by("project"), target=lab.describe()
            )
        # The Project mirrors its namespace's annotations; OpenShift adds the UID range right after creation.
        has_range = wait_for(
            kube,
            "projects",
            lambda items: any(
                p["metadata"]["name"] == ns and p["metadata"].get("annotations", {}).get(UID_RANGE) for p in items
            ),
            timeout=timeout,
        )
        uid_range = (kube.get("projects", ns)["metadata"].get("annotations") or {}).get(UID_RANGE)
        checks = (
            Check("project", True, f"{ns} exists"),
            Check(
                "UID range",
                has_range,
                uid_range or "not assigned yet",
                None if has_range else "OpenShift assigns it within seconds; if it never does, ask your admin",
            ),
            Check(
                "rights",
                kube.can_i("create", "deployments", group="apps", namespace=ns),
                "you may deploy into it",
                f"ask its admin: oc adm policy add-role-to-user admin <you> -n {ns}",
            ),
        )
        ok = all(c.ok for c in checks)
        return StepResult(
            self.name,
            "check",
            ok,
            f"project {ns} is ready." if ok else f"project {ns} is not ready.",
            checks,
            target=lab.describe(),
        )

    def undo(self, lab, on_line=None) -> StepResult:
        if lab.workshop:
            return StepResult(
                self.name, "undo", True, lab.workshop.kept(f"project {lab.namespace}"), target=lab.describe()
            )
        changed, line = delete_project(lab)
        ok = "Terminating" not in line
        if not changed:
            return StepResult(self.name, "undo", True, f"{line}; nothing to undo.", target=lab.describe(), neutral=True)
        return StepResult(self.name, "undo", ok, line + ".", changed=changed, output=(line,), target=lab.describe())
