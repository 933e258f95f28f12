"""Which service accounts need which SCC, computed rather than found by failing.

For every pod-bearing object: build the pod its controller would create, admit it as OpenShift would (for its
service account and for the controller's identity, which holds restricted-v2), then check what the image itself
needs (image-requirements.yaml). Where that fails, look for the least-privileged default SCC (fewest
restrictiveness points; priority only says which SCC is tried first) that makes every workload of the service
account work, and say why in one sentence per failing field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from ..errors import UsageError
from .admission import admit
from .images import image_repository, load_image_requirements, requirement_for
from .manifests import is_test_hook, load_manifests, workload_of
from .provider import containers_of
from .rbac import can_use_from_rbac, scc_grant_binding, service_account_subject
from .sccs import by_restriction, default_scc_rbac, load_sccs, normalize_version, scc_name

# With --manifests the planner knows no cluster, so it assumes the first namespace block OpenShift's allocator
# typically hands out to a user project (1000680000/10000, MCS s0:c26,c15), as seen on real clusters.
DEFAULT_UID_BLOCK = "1000680000/10000"
DEFAULT_MCS = "s0:c26,c15"
DEFAULT_NAMESPACE = "default"


@lru_cache(maxsize=None)
def _reason_templates() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("data", "reasons.yaml").read_text(encoding="utf-8"))


def seed_recipe_grants() -> list["Grant"]:
    data = yaml.safe_load(resources.files(__package__).joinpath("data", "seed-recipe-grants.yaml").read_text(encoding="utf-8"))
    return [Grant(g["scc"], g["service_account"]) for g in data["grants"]]


@dataclass(frozen=True, order=True)
class Grant:
    """`oc adm policy add-scc-to-user <scc> -z <service_account>`."""

    scc: str
    service_account: str

    @classmethod
    def coerce(cls, value) -> "Grant":
        if isinstance(value, Grant):
            return value
        if isinstance(value, dict):
            return cls(value["scc"], value["service_account"])
        if isinstance(value, str):
            words = value.split()
            if "-z" in words and len(words) >= 2:
                sa = words[words.index("-z") + 1]
                scc = words[words.index("-z") - 1]
                return cls(scc, sa)
            if ":" in value:
                scc, sa = value.split(":", 1)
                return cls(scc.strip(), sa.strip())
            raise UsageError(f"Cannot read the grant {value!r}; write it as 'anyuid:default' or as the oc adm policy command.")
        scc, sa = value
        return cls(scc, sa)

    def command(self, namespace: str | None = None) -> str:
        suffix = f" -n {namespace}" if namespace else ""
        return f"oc adm policy add-scc-to-user {self.scc} -z {self.service_account}{suffix}"

    def remove_command(self, namespace: str | None = None) -> str:
        suffix = f" -n {namespace}" if namespace else ""
        return f"oc adm policy remove-scc-from-user {self.scc} -z {self.service_account}{suffix}"


@dataclass
class WorkloadPlan:
    kind: str
    name: str
    service_account: str
    images: list[str]
    scc_now: str | None          # the SCC admission picks with the existing grants (None: rejected)
    works_now: bool              # admitted, and the image gets what it needs
    least_scc: str | None        # least-privileged default SCC that makes it work for its SA (None: works now / none)
    reasons: list[str] = field(default_factory=list)
    message: str = ""            # the rejection message with the existing grants, if rejected
    reasons_by_scc: dict = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class ServiceAccountPlan:
    name: str
    workloads: list[str]
    grant: str | None            # the SCC to grant (None: nothing needed, or nothing helps)
    works_now: bool
    reasons: list[str] = field(default_factory=list)
    unsolvable: bool = False


@dataclass
class GrantReview:
    grant: Grant
    verdict: str                 # needed | more than needed | unneeded | wrong | unknown SCC | missing
    reason: str


@dataclass
class Plan:
    namespace: str
    openshift_version: str
    workloads: list[WorkloadPlan]
    service_accounts: list[ServiceAccountPlan]
    notes: list[str]
    existing_grants: list[Grant]
    skipped: list[str] = field(default_factory=list)   # objects that run no pods, as Kind/name
    _evaluate: object = field(repr=False, default=None)
    _scc_names: tuple = field(repr=False, default=())

    def grants(self) -> list[Grant]:
        return sorted(Grant(sa.grant, sa.name) for sa in self.service_accounts if sa.grant)

    def commands(self, namespace: str | None = None) -> list[str]:
        """The needed grants, one `oc adm policy add-scc-to-user <scc> -z <sa>` line each, sorted."""
        return sorted(grant.command(namespace) for grant in self.grants())

    def remove_commands(self, namespace: str | None = None) -> list[str]:
        """The matching `oc adm policy remove-scc-from-user` lines, to undo the plan."""
        return sorted(grant.remove_command(namespace) for grant in self.grants())

    def review(self, grants) -> list[GrantReview]:
        """Judge a given list of grants against this plan: which are needed, unneeded, too broad or wrong, and why."""
        grants = [Grant.coerce(g) for g in grants]
        by_sa = {sa.name: sa for sa in self.service_accounts}
        needed = {(g.scc, g.service_account) for g in self.grants()}
        reviews = []
        for grant in grants:
            reviews.append(self._review_one(grant, by_sa, needed))
        given = {(g.scc, g.service_account) for g in grants}
        given_sas = {g.service_account for g in grants}
        for grant in self.grants():
            if (grant.scc, grant.service_account) in given:
                continue
            also = " (the list gives it another SCC)" if grant.service_account in given_sas else ""
            workloads = ", ".join(by_sa[grant.service_account].workloads)
            reviews.append(GrantReview(grant, "missing",
                                       f"{grant.service_account} runs {workloads} and needs {grant.scc}{also}."))
        return reviews

    def _review_one(self, grant: Grant, by_sa, needed) -> GrantReview:
        if grant.scc not in self._scc_names:
            return GrantReview(grant, "unknown SCC",
                               f"There is no SCC named {grant.scc} among OpenShift {self.openshift_version}'s defaults.")
        sa = by_sa.get(grant.service_account)
        if sa is None:
            same = sorted(s.name for s in self.service_accounts if s.grant == grant.scc)
            instead = f" The workloads that need {grant.scc} run as {', '.join(same)}." if same else ""
            return GrantReview(grant, "wrong",
                               f"No workload here runs as service account {grant.service_account}.{instead}")
        if (grant.scc, grant.service_account) in needed:
            return GrantReview(grant, "needed", f"Without it, {', '.join(sa.workloads)} would fail: "
                                                + " ".join(sa.reasons))
        results = self._evaluate(sa.name, grant.scc)
        failing = [r for r in results if not r.works_now]
        if failing:
            why = " ".join(dict.fromkeys(
                reason for r in failing for reason in (r.reasons_by_scc.get(grant.scc) or r.reasons)))
            return GrantReview(grant, "wrong", f"With {grant.scc}, {', '.join(r.label for r in failing)} would still fail: {why}")
        if sa.grant is None:
            chosen = sorted({w.scc_now for w in self.workloads if w.service_account == sa.name and w.scc_now})
            return GrantReview(grant, "unneeded",
                               f"The workloads of {sa.name} are admitted without it (by {', '.join(chosen)}).")
        return GrantReview(grant, "more than needed",
                           f"{sa.name} needs only {sa.grant}, which allows less than {grant.scc}. " + " ".join(sa.reasons))

    def render(self, namespace: str | None = None) -> str:
        """A plain-text report; needed grants are the only lines that start with `oc adm policy add-scc-to-user`."""
        lines = [f"SCC plan for namespace {self.namespace} (OpenShift {self.openshift_version})", ""]
        lines.append("Workloads:")
        for w in self.workloads:
            now = f"admitted by {w.scc_now}" if w.scc_now else "rejected"
            state = "works" if w.works_now else f"fails ({now})"
            need = f"; needs {w.least_scc}" if w.least_scc else ""
            lines.append(f"  {w.label} (service account {w.service_account}): {state}{need}")
            for reason in w.reasons:
                lines.append(f"    - {reason}")
        lines += ["", "Service accounts:"]
        for sa in self.service_accounts:
            if sa.grant:
                verdict = f"needs {sa.grant}"
            elif sa.unsolvable:
                verdict = "no default SCC makes all its workloads work"
            else:
                verdict = "needs no grant"
            lines.append(f"  {sa.name}: {verdict} ({', '.join(sa.workloads)})")
        if self.skipped:
            kinds: dict[str, int] = {}
            for label in self.skipped:
                kind = label.split("/", 1)[0]
                kinds[kind] = kinds.get(kind, 0) + 1
            summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            lines.append(f"Note: skipped {len(self.skipped)} objects that run no pods ({summary}).")
        for note in self.notes:
            lines.append(f"Note: {note}")
        lines += ["", "Grants to run:" if self.grants() else "No grants are needed."]
        lines += self.commands(namespace)
        return "\n".join(lines)


def _namespace_object(namespace: str, annotations: dict | None) -> dict:
    values = {
        "openshift.io/sa.scc.uid-range": DEFAULT_UID_BLOCK,
        "openshift.io/sa.scc.supplemental-groups": DEFAULT_UID_BLOCK,
        "openshift.io/sa.scc.mcs": DEFAULT_MCS,
    }
    values.update(annotations or {})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "annotations": values}}


def _format_ranges(ranges) -> str:
    return ", ".join(str(low) if low == high else f"{low}–{high}" for low, high in ranges or [])


def explain(error, workload: str) -> str | None:
    """One plain sentence for a field error, or None for entries that are not about the pod."""
    template = _reason_templates().get(error.rule)
    if not template:
        return None
    params = dict(error.params)
    params.setdefault("container", "")
    if "ranges" in params:
        params["allowed"] = _format_ranges(params["ranges"])
    return template.format(workload=workload, scc=error.scc, **params)


def _image_problems(pod: dict, scc: str, workload: str, requirements) -> list[str]:
    """What the image needs that the admitted pod does not give it."""
    spec = pod.get("spec") or {}
    psc = spec.get("securityContext") or {}
    problems = []
    templates = _reason_templates()
    for _, container in containers_of(spec):
        need = requirement_for(container.get("image", ""), requirements)
        if need is None:
            continue
        csc = container.get("securityContext") or {}
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        uid = need.image_user if uid is None else uid
        non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        repository = image_repository(container.get("image", ""))
        if non_root and uid == 0:
            problems.append(templates["image_non_root"].format(
                workload=workload, repository=repository, scc=scc, container=container.get("name", "")))
        elif need.needs_uid is not None and uid != need.needs_uid:
            problems.append(templates["image_uid"].format(
                workload=workload, repository=repository, needs=need.needs_uid, why=need.why, scc=scc, uid=uid))
    return list(dict.fromkeys(problems))


def plan_grants(manifests, *, namespace=None, existing_grants=(), image_requirements=None,
                openshift_version="4.19", namespace_annotations=None) -> Plan:
    """Plan the SCC grants for rendered manifests (objects or multi-document YAML text)."""
    version = normalize_version(openshift_version)
    objects = load_manifests(manifests) if isinstance(manifests, str) else list(manifests)
    requirements = load_image_requirements(image_requirements) if not isinstance(image_requirements, list) \
        else image_requirements
    sccs = load_sccs(version)
    names = tuple(scc_name(s) for s in sccs)
    notes, skipped, workloads = [], [], []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        label = f"{obj.get('kind', 'object')}/{(obj.get('metadata') or {}).get('name', '?')}"
        if is_test_hook(obj):
            notes.append(f"{label} is a helm test hook, created only by `helm test`; skipped.")
            continue
        workload = workload_of(obj)
        if workload is None:
            skipped.append(label)
            continue
        workloads.append(workload)
    if namespace is None:
        namespace = next((w.namespace for w in workloads if w.namespace), DEFAULT_NAMESPACE)
    namespace_obj = _namespace_object(namespace, namespace_annotations)

    grants = []
    for value in existing_grants:
        grant = Grant.coerce(value)
        if grant.scc not in names:
            notes.append(f"The existing grant of {grant.scc} to {grant.service_account} names no known SCC; ignored.")
            continue
        grants.append(grant)
    base_rbac = default_scc_rbac(version)

    def can_use_with(extra: list[Grant]):
        objects_ = list(base_rbac)
        for grant in grants + extra:
            objects_.append(scc_grant_binding(grant.scc, namespace, [grant.service_account]))
        return can_use_from_rbac(objects_)

    def evaluate(workload, can_use) -> WorkloadPlan:
        label = workload.name
        result = admit(workload.pod, namespace_obj, sccs,
                       sa_subject=service_account_subject(namespace, workload.service_account),
                       user=workload.creator, can_use=can_use, openshift_version=version)
        images = [c.get("image", "") for _, c in containers_of(workload.pod.get("spec") or {})]
        plan = WorkloadPlan(workload.kind, workload.name, workload.service_account, images, result.scc, False, None)
        if result.allowed:
            plan.reasons = _image_problems(result.pod, result.scc, label, requirements)
            plan.works_now = not plan.reasons
        else:
            plan.message = result.message
            for error in result.errors:
                sentence = explain(error, label)
                if sentence:
                    plan.reasons_by_scc.setdefault(error.scc, []).append(sentence)
            plan.reasons = list(dict.fromkeys(s for group in plan.reasons_by_scc.values() for s in group))
        return plan

    current_can_use = can_use_with([])
    plans = [evaluate(w, current_can_use) for w in workloads]
    by_sa: dict[str, list[int]] = {}
    for index, workload in enumerate(workloads):
        by_sa.setdefault(workload.service_account, []).append(index)

    candidates = by_restriction(sccs)

    def evaluate_sa_with(sa: str, scc: str) -> list[WorkloadPlan]:
        can_use = can_use_with([Grant(scc, sa)])
        return [evaluate(workloads[i], can_use) for i in by_sa.get(sa, [])]

    sa_plans = []
    for sa, indexes in sorted(by_sa.items()):
        labels = [plans[i].label for i in indexes]
        if all(plans[i].works_now for i in indexes):
            sa_plans.append(ServiceAccountPlan(sa, labels, None, True))
            continue
        subject = service_account_subject(namespace, sa)
        chosen = None
        # Candidates go least privilege first, so the first that works for a workload is its own answer too.
        for scc in candidates:
            name = scc_name(scc)
            if current_can_use(subject, name, namespace):
                continue  # already usable: granting it again changes nothing
            results = evaluate_sa_with(sa, name)
            for i, result in zip(indexes, results):
                if result.works_now and not plans[i].works_now and plans[i].least_scc is None:
                    plans[i].least_scc = name
            if all(result.works_now for result in results):
                chosen = name
                break
        reasons = list(dict.fromkeys(r for i in indexes if not plans[i].works_now for r in plans[i].reasons))
        sa_plans.append(ServiceAccountPlan(sa, labels, chosen, False, reasons, unsolvable=chosen is None))
    return Plan(namespace, version, plans, sa_plans, notes, grants, skipped, evaluate_sa_with, names)


__all__ = ["Grant", "GrantReview", "Plan", "ServiceAccountPlan", "WorkloadPlan", "plan_grants", "seed_recipe_grants",
           "explain"]
