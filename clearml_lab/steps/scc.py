"""Step 5: SCC grants computed from the rendered chart, applied, and verified with OpenShift's review API."""

from __future__ import annotations

from .. import chart
from ..errors import LabError
from ..kube import ApiFailure
from ..oc import SCC_ROLE, add_scc_to_user, lab_grants, remove_scc_from_user, visible_project
from ..scc import plan_grants, seed_recipe_grants
from ..topology import workload_of_pod as _workload_of_pod
from .base import Check, Step, StepResult


def existing_grants(kube, namespace: str) -> list[tuple[str, str]]:
    """(scc, service account) pairs of this namespace that RBAC bindings or SCC user lists already allow."""
    prefix = SCC_ROLE.format("")
    sa_prefix = f"system:serviceaccount:{namespace}:"
    found = set()
    bindings = []
    for resource, ns in (("clusterrolebindings", None), ("rolebindings", namespace)):
        try:
            bindings += kube.list(resource, ns).get("items", [])
        except ApiFailure as err:
            if err.code != 403:
                raise
    for binding in bindings:
        role = binding.get("roleRef", {}).get("name", "")
        if not role.startswith(prefix):
            continue
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("namespace", namespace) == namespace:
                found.add((role[len(prefix) :], subject["name"]))
    try:
        for scc in kube.list("securitycontextconstraints").get("items", []):
            for user in scc.get("users") or []:
                if user.startswith(sa_prefix):
                    found.add((scc["metadata"]["name"], user[len(sa_prefix) :]))
    except ApiFailure as err:
        if err.code != 403:
            raise
    return sorted(found)


def rendered_manifests(lab) -> list[dict]:
    if not lab.values_file.exists():
        raise LabError("there is no values.yaml yet: run `clearml-lab run values` (notebook 03) first.")
    return chart.render(
        lab.chart_version,
        repo=lab.chart_repo,
        values_file=str(lab.values_file),
        profile=None,
        release=lab.settings.release,
        namespace=lab.namespace,
        kube_version=lab.server_version(),
    )


def openshift_version(kube) -> str:
    """The cluster's OpenShift minor version (4.N) from ClusterVersion; 4.19 where it cannot be read."""
    try:
        version = kube.get("clusterversions", "version")
    except ApiFailure:
        return "4.19"
    full = (version.get("status", {}).get("desired") or {}).get("version") or ""
    return ".".join(full.split(".")[:2]) or "4.19"


def compute_plan(lab, manifests: list[dict] | None = None, *, count_existing: bool = True):
    """The planner's answer for this project, with the grants that already exist on the cluster (or, to judge a
    list of grants such as the seed recipe's, as if none existed)."""
    kube = lab.kube()
    project = visible_project(kube, lab.namespace) or {}
    return plan_grants(
        manifests if manifests is not None else rendered_manifests(lab),
        namespace=lab.namespace,
        namespace_annotations=project.get("metadata", {}).get("annotations") or None,
        existing_grants=existing_grants(kube, lab.namespace) if count_existing else (),
        openshift_version=openshift_version(kube),
    )


def seed_recipe_set(lab, manifests: list[dict] | None = None):
    """The seed recipe's four grants judged together against what this chart needs from scratch (where every
    workload lands with all four, then a verdict per grant): grants made since (by the lab or an instructor) must not
    make the recipe's own grants look unneeded."""
    return compute_plan(lab, manifests, count_existing=False).review_set(seed_recipe_grants())


def seed_recipe_review(lab, manifests: list[dict] | None = None) -> list:
    """The verdicts of seed_recipe_set, one per grant of the recipe and per grant it misses."""
    return seed_recipe_set(lab, manifests).reviews


def review(kube, namespace: str, workload: dict) -> str | None:
    """Ask OpenShift which SCC would admit this workload's pods for its service account (scc-subject-review)."""
    spec = workload["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if workload.get("kind") == "CronJob" else spec["template"]
    sa = template.get("spec", {}).get("serviceAccountName") or "default"
    # Controller-made pods are judged for their service account and for the controller's identity, which holds
    # restricted-v2 through system:authenticated; asking for the account with that group answers both at once.
    body = {
        "apiVersion": "security.openshift.io/v1",
        "kind": "PodSecurityPolicySubjectReview",
        "spec": {
            "template": template,
            "user": f"system:serviceaccount:{namespace}:{sa}",
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
        },
    }
    status = kube.create("podsecuritypolicysubjectreviews", body, namespace).get("status", {})
    return (status.get("allowedBy") or {}).get("name")


def recreate_pods_admitted_before(
    kube, namespace: str, granted: dict[str, set[str]], planned: dict[tuple[str, str], str] | None = None
) -> list[str]:
    """A grant changes nothing for pods that already exist: admission chose their SCC (and UID) when they were
    created. Delete the controller-made pods of the newly granted accounts that run under another SCC than the one
    the plan puts their workload on (``planned``: (kind, name) -> SCC; else any SCC granted to the account), so their
    controllers create them again under it."""
    lines = []
    for pod in kube.list("pods", namespace).get("items", []):
        meta, sa = pod["metadata"], pod.get("spec", {}).get("serviceAccountName") or "default"
        admitted = (meta.get("annotations") or {}).get("openshift.io/scc")
        if sa not in granted or not meta.get("ownerReferences"):
            continue
        # the workload whose controller made the pod, as the topology reads it (a ReplicaSet stands for its Deployment)
        target = (planned or {}).get(_workload_of_pod(pod, dict.fromkeys(planned or {}, {})))
        if target is None:
            stale, target = admitted not in granted[sa], " or ".join(sorted(granted[sa]))
        else:
            stale = admitted != target
        if stale:
            kube.delete("pods", meta["name"], namespace)
            lines.append(
                f'pod "{meta["name"]}" deleted: admitted under {admitted} before the grant; its controller '
                f"recreates it under {target}"
            )
    return lines


class SccGrants(Step):
    name = "scc"
    title = "Grant security context constraints"
    explanation = (
        "OpenShift admits a pod only if some SCC its service account may use allows everything the pod asks "
        "for. MongoDB and Redis ask for UID 1001, outside the project's range; the seed profile's "
        "Elasticsearch runs a privileged init container; the ClearML image must run as root. The lab renders "
        "the chart, computes for each service account the fewest, least-privileged SCCs under which OpenShift's "
        "order admits every one of its pods by an SCC that lets it work, grants exactly those in this project, and "
        "asks OpenShift's review API to confirm."
    )

    def commands(self, lab) -> list[str]:
        try:
            plan = compute_plan(lab)
        except LabError as err:
            return [f"# the grants are computed from values.yaml: {err}"]
        if lab.workshop:
            made = [
                f"# {g.command(lab.namespace)}   (done by your instructor: workshop mode)" for g in plan.existing_grants
            ]
            return made + plan.commands(lab.namespace)
        return plan.commands(lab.namespace)

    def run(self, lab, on_line=None) -> StepResult:
        kube, ns = lab.kube(), lab.namespace
        manifests = rendered_manifests(lab)  # rendered once (helm template) for the plan, the review and the check
        plan = compute_plan(lab, manifests)
        output, changed, granted = [], False, {}
        if lab.workshop:
            made = ", ".join(f"{g.scc} to {g.service_account}" for g in plan.existing_grants)
            output.append(lab.workshop.skipped(f"granted {made or 'nothing yet'} in project {ns}"))
            if on_line:
                on_line(output[-1])
        asker = "your instructor" if lab.workshop else "your cluster admin"
        for grant in plan.grants():
            try:
                created, line = add_scc_to_user(kube, grant.scc, grant.service_account, ns, namespaced=True)
            except ApiFailure as err:
                if err.code != 403:
                    raise
                line = (
                    f"not allowed to grant {grant.scc} to {grant.service_account}; ask {asker} to run: "
                    f"oc adm policy add-scc-to-user {grant.scc} -z {grant.service_account} -n {ns}"
                )
                created = False
            changed |= created
            if created:
                granted.setdefault(grant.service_account, set()).add(grant.scc)
            output.append(line)
            if on_line:
                on_line(line)
        planned = {(w.kind, w.name): w.scc_planned for w in plan.workloads if w.scc_planned}
        for line in recreate_pods_admitted_before(kube, ns, granted, planned):
            output.append(line)
            if on_line:
                on_line(line)
        for warning in plan.warnings:  # a grant that captures a sibling, an image the lab knows nothing about
            output.append(f"note: {warning}")
            if on_line:
                on_line(output[-1])
        seed = seed_recipe_set(lab, manifests)
        output += [f"seed recipe's `{r.grant.command()}`: {r.verdict} — {r.reason}" for r in seed.reviews]
        output.append(f"seed recipe as a whole: {seed.summary}")
        result = self._check(lab, manifests)
        return result.as_run(lab.describe(), output, changed=changed)

    def check(self, lab, timeout: float = 60) -> StepResult:
        return self._check(lab, rendered_manifests(lab))

    def _check(self, lab, manifests: list[dict]) -> StepResult:
        kube, ns = lab.kube(), lab.namespace
        plan = compute_plan(lab, manifests)  # anew: grants may have been made since the manifests were rendered
        templates = {
            (m.get("kind"), m["metadata"]["name"]): m for m in manifests if isinstance(m, dict) and m.get("metadata")
        }
        checks = []
        for workload in plan.workloads:
            # The cluster's own answer (scc-subject-review) must agree with the plan: admitted, and by an SCC
            # that gives the image what it needs.
            allowed = (
                review(kube, ns, templates[(workload.kind, workload.name)])
                if (workload.kind, workload.name) in templates and workload.kind != "Pod"
                else workload.scc_now
            )
            ok = workload.works_now and allowed is not None
            detail = f"admitted by {allowed}" if allowed else "no SCC its service account may use admits its pods"
            checks.append(
                Check(
                    f"{workload.label} (sa {workload.service_account})",
                    ok,
                    detail,
                    None if ok else " ".join(workload.reasons) or "see the plan",
                )
            )
        ok = all(c.ok for c in checks)
        summary = (
            "every ClearML workload is admitted by an SCC that gives it what it needs."
            if ok
            else f"{sum(not c.ok for c in checks)} workload(s) lack the SCC they need."
        )
        asker = "ask your instructor (workshop mode)" if lab.workshop else "run this step, or ask your cluster admin"
        return StepResult(
            self.name,
            "check",
            ok,
            summary,
            tuple(checks),
            fix=None if ok else f"{asker} to run: " + "; ".join(plan.commands(ns)),
            target=lab.describe(),
        )

    def undo(self, lab, on_line=None) -> StepResult:
        if lab.workshop:
            return StepResult(self.name, "undo", True, lab.workshop.kept("the SCC grants"), target=lab.describe())
        kube, ns, output = lab.kube(), lab.namespace, []
        for scc, sa, namespaced in lab_grants(kube, ns):
            changed, line = remove_scc_from_user(kube, scc, sa, ns, namespaced=namespaced)
            if changed:
                output.append(line)
                if on_line:
                    on_line(line)
        if not output:
            return StepResult(
                self.name,
                "undo",
                True,
                "no SCC grant the lab made is left; nothing to undo.",
                target=lab.describe(),
                neutral=True,
            )
        return StepResult(
            self.name,
            "undo",
            True,
            f"{len(output)} grant(s) the lab made were removed.",
            changed=True,
            output=tuple(output),
            target=lab.describe(),
        )
