"""Step 1: can this cluster and this login run the recipe?"""

from __future__ import annotations

from dataclasses import replace

from kubernetes.utils.quantity import parse_quantity

from .. import chart
from ..errors import LabError
from ..helm import Helm
from ..kube import ApiFailure
from ..oc import visible_project, whoami
from ..versions import satisfies
from ..workshop_mode import QUOTA, budget_storage
from .base import Check, Step, StepResult
from .scc import existing_grants

NEEDED_STORAGE = parse_quantity("155Gi")
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def helm_check(helm: Helm) -> Check:
    try:
        version = helm.version()
    except LabError as err:
        return Check("helm", False, str(err), "run `make lab`, which installs a pinned helm 4")
    text = "v" + ".".join(map(str, version))
    if helm.supported():
        return Check("helm", True, f"{text} (3.14+ and 4.x are supported)")
    return Check("helm", False, f"{text} is too old", "install helm 3.14 or newer (4.x works too)")


def storage_check(kube) -> Check:
    try:
        return _storage_check(kube)
    except ApiFailure as err:
        if err.code != 403:
            raise
        return Check(
            "storage",
            None,
            "you may not read the storage classes or their capacity",
            "ask your cluster admin whether a default StorageClass has room for about 155 Gi (RWO)",
        )


def _storage_check(kube) -> Check:
    classes = kube.list("storageclasses").get("items", [])
    default = [c for c in classes if c["metadata"].get("annotations", {}).get(DEFAULT_CLASS_ANNOTATION) == "true"]
    if not default:
        return Check(
            "storage",
            False,
            "no default StorageClass",
            "ask your cluster admin to mark one StorageClass as default (the chart's PVCs name none)",
        )
    name = default[0]["metadata"]["name"]
    capacities = [
        c
        for c in kube.request("GET", "/apis/storage.k8s.io/v1/csistoragecapacities").get("items", [])
        if c.get("storageClassName") == name and c.get("capacity")
    ]
    if not capacities:
        return Check(
            "storage",
            None,
            f"default class {name}; its free capacity is not published",
            "make sure about 155 Gi can be provisioned (four RWO claims: 50+50+50+5 Gi)",
        )
    free = sum(parse_quantity(c["capacity"]) for c in capacities)
    gib = int(free / 2**30)
    if free >= NEEDED_STORAGE:
        return Check("storage", True, f"default class {name} (RWO), {gib} Gi free for the 155 Gi needed")
    return Check(
        "storage",
        False,
        f"default class {name} has {gib} Gi free, the chart asks for 155 Gi",
        "free space, or lower the sizes in values.yaml (fileserver.storage.data.size, mongodb.persistence.size, "
        "elasticsearch.volumeClaimTemplate, redis.master.persistence.size)",
    )


def workshop_storage_check(kube, namespace: str) -> Check:
    """A learner may not read storage classes; the workshop's quota says what the project may claim."""
    allowed = budget_storage(kube, namespace)
    if allowed is None:
        return storage_check(kube)
    if parse_quantity(allowed) >= NEEDED_STORAGE:
        return Check(
            "storage",
            True,
            f"your workshop budget (ResourceQuota {QUOTA}) allows {allowed} of claims for the 155 Gi needed",
        )
    return Check(
        "storage",
        False,
        f"your workshop budget (ResourceQuota {QUOTA}) allows {allowed}, the chart asks for 155 Gi",
        "ask your instructor, or lower the sizes in values.yaml",
    )


class Prerequisites(Step):
    name = "prerequisites"
    title = "Check the prerequisites"
    explanation = (
        "Before touching the cluster, the lab checks what the recipe needs: helm, a login, the right to create "
        "a project and to grant security context constraints (SCCs), a router with an apps domain for the "
        "Routes, a default StorageClass with room for about 155 Gi over four claims, and a Kubernetes version "
        "the chart accepts. Each line says what is missing and who can fix it."
    )

    def commands(self, lab) -> list[str]:
        return [
            "helm version",
            "oc whoami",
            "oc auth can-i create projectrequests",
            "oc auth can-i create clusterrolebindings",
            "oc get ingresses.config.openshift.io cluster -o jsonpath='{.spec.domain}'",
            "oc get storageclass",
            "oc version",
        ]

    def check(self, lab, timeout: float = 60) -> StepResult:
        checks = [helm_check(lab.helm())]
        kube = lab.kube()
        try:
            me = whoami(kube)
        except LabError as err:
            checks.append(Check("login", False, str(err)))
            return self._result(lab, checks)
        checks.append(Check("login", True, f"as {me.username}"))
        seat = lab.workshop
        checks += [
            self._project_rights(lab, kube),
            self._scc_rights(lab, kube),
            self._apps_domain(kube),
            workshop_storage_check(kube, lab.namespace) if seat else storage_check(kube),
            self._kube_version(lab),
        ]
        return self._result(lab, checks)

    def run(self, lab, on_line=None) -> StepResult:
        return replace(self.check(lab), action="run")

    def undo(self, lab, on_line=None) -> StepResult:
        return StepResult(
            self.name, "undo", True, "nothing to undo: this step only reads the cluster.", target=lab.describe()
        )

    # -- the individual checks ----------------------------------------------------------------------------------
    def _project_rights(self, lab, kube) -> Check:
        ns = lab.namespace
        if visible_project(kube, ns) is not None:
            if kube.can_i("create", "deployments", group="apps", namespace=ns):
                if lab.workshop:
                    return Check(
                        "project",
                        True,
                        f"your instructor prepared project {ns} and you may deploy into it (workshop mode)",
                    )
                return Check("project", True, f"project {ns} exists and you may deploy into it")
            return Check(
                "project",
                False,
                f"project {ns} exists but you may not deploy into it",
                f"ask its admin to run: oc adm policy add-role-to-user admin <you> -n {ns}",
            )
        if kube.can_i("create", "projectrequests", group="project.openshift.io"):
            return Check("project", True, "you may create projects")
        return Check(
            "project",
            False,
            "you may not create projects",
            f"ask your cluster admin to run: oc new-project {ns} (and make you its admin)",
        )

    def _scc_rights(self, lab, kube) -> Check:
        if lab.workshop:
            # The instructor granted what the workshop's chart needs; the scc step's check proves it is enough.
            made = existing_grants(kube, lab.namespace)
            if made:
                return Check(
                    "SCC grants",
                    True,
                    "your instructor granted " + ", ".join(f"{scc} to {sa}" for scc, sa in made) + " (workshop mode)",
                )
            return Check(
                "SCC grants",
                False,
                f"your instructor has not granted any SCC in project {lab.namespace} yet (workshop mode)",
                "ask your instructor to provision your project again",
            )
        may_bind = kube.can_i("create", "clusterrolebindings", group="rbac.authorization.k8s.io") and (
            kube.can_i("use", "securitycontextconstraints", group="security.openshift.io", name="privileged")
            or kube.can_i(
                "bind", "clusterroles", group="rbac.authorization.k8s.io", name="system:openshift:scc:privileged"
            )
        )
        if may_bind:
            return Check("SCC grants", True, "you may grant security context constraints")
        if visible_project(kube, lab.namespace) is not None:
            # An admin prepared the project (and perhaps its grants); the scc step verifies them.
            return Check(
                "SCC grants",
                None,
                f"you may not grant SCCs; the grants already made for project {lab.namespace} will be used",
            )
        return Check(
            "SCC grants",
            False,
            "you may not grant SCCs to service accounts",
            "ask your cluster admin to run the grants the scc step shows (oc adm policy add-scc-to-user …); "
            "the lab accepts grants that already exist",
        )

    def _apps_domain(self, kube) -> Check:
        try:
            ingress = kube.get("ingresses.config", "cluster")
        except ApiFailure as err:
            return Check(
                "router",
                None,
                f"cannot read the apps domain ({err.reason or err.code})",
                "Routes still get a host from the router; ask your admin for the apps domain",
            )
        domain = ingress.get("spec", {}).get("appsDomain") or ingress.get("spec", {}).get("domain")
        if not domain:
            return Check("router", False, "the cluster has no apps domain", "ask your admin to configure the router")
        return Check("router", True, f"Routes will be served under *.{domain}")

    def _kube_version(self, lab) -> Check:
        version = lab.server_version()
        try:  # the chosen (or kept) version, else the newest the chart repository serves that fits the cluster
            chart_version = lab.chart_version
            constraint = chart.chart_kube_version_range(chart_version, lab.chart_repo)
        except LabError as err:
            return Check(
                "chart",
                False,
                str(err),
                "choose a chart repository and version the lab can read "
                "(--chart-repo, --chart-version; clearml-lab charts lists them)",
            )
        label = f"chart {chart_version}"
        if satisfies(version, constraint):
            return Check(label, True, f"accepts Kubernetes {version} ({constraint})")
        fix = "choose a chart version whose kubeVersion includes the cluster (--chart-version)"
        if lab.is_practice:
            fix = (
                "start a practice cluster emulating an OpenShift the chart accepts: clearml-lab practice up "
                "--openshift-version 4.15 (chart 7.3.1 needs OpenShift 4.15 or older)"
            )
        return Check(label, False, f"refuses Kubernetes {version} (it needs {constraint})", fix)

    def _result(self, lab, checks) -> StepResult:
        failed = [c for c in checks if c.ok is False]
        summary = (
            "everything the recipe needs is in place."
            if not failed
            else f"{len(failed)} prerequisite(s) missing: {', '.join(c.label for c in failed)}."
        )
        if lab.workshop:
            summary += f" Workshop mode: learner {lab.workshop.learner}; project and SCC grants are your instructor's."
        return StepResult(self.name, "check", not failed, summary, tuple(checks), target=lab.describe())
