"""Which service accounts need which SCCs, computed rather than found by failing.

For every pod-bearing object: build the pod its controller would create and admit it as OpenShift would (for its
service account and for the controller's identity, which holds restricted-v2), then check what the image itself
needs (image-requirements.yaml). Each pod is admitted once per SCC to learn which SCCs admit it and under which
its image works. A service account's grants are then chosen as a set: admission tries every SCC the account may
use in OpenShift's order (priority first, so anyuid's 10 comes before restricted-v2), and the first that admits a
pod decides what it runs as — a grant made for one pod can capture a sibling. The plan is the set under which
every pod of the account lands on an SCC that lets it work: fewest grants first, then the least privileged
(compared most privileged member first, by restrictiveness points). The chosen set is then checked once more
with the admission engine itself, pod by pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import combinations

import yaml

from ..errors import UsageError
from .admission import REQUIRED_SCC_ANNOTATION, admit, applies_to
from .images import image_repository, load_image_requirements, requirement_for, unknown_images
from .manifests import is_test_hook, load_manifests, workload_of
from .provider import Allocation, NamespaceNotReady, Provider, ProviderError, containers_of
from .rbac import can_use_from_rbac, scc_grant_binding, service_account_subject
from .sccs import (
    by_restriction,
    default_scc_rbac,
    has_feature,
    load_sccs,
    normalize_version,
    points,
    priority,
    scc_name,
    sort_sccs,
)

# With --manifests the planner knows no cluster, so it assumes the first namespace block OpenShift's allocator
# typically hands out to a user project (1000680000/10000, MCS s0:c26,c15), as seen on real clusters.
DEFAULT_UID_BLOCK = "1000680000/10000"
DEFAULT_MCS = "s0:c26,c15"
DEFAULT_NAMESPACE = "default"


@cache
def _reason_templates() -> dict:
    return yaml.safe_load(resources.files(__package__).joinpath("data", "reasons.yaml").read_text(encoding="utf-8"))


def seed_recipe_grants() -> list[Grant]:
    data = yaml.safe_load(
        resources.files(__package__).joinpath("data", "seed-recipe-grants.yaml").read_text(encoding="utf-8")
    )
    return [Grant(g["scc"], g["service_account"]) for g in data["grants"]]


@dataclass(frozen=True, order=True)
class Grant:
    """`oc adm policy add-scc-to-user <scc> -z <service_account>`; ``reason`` (not compared) says why."""

    scc: str
    service_account: str
    reason: str = field(default="", compare=False)

    @classmethod
    def coerce(cls, value) -> Grant:
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
            raise UsageError(
                f"Cannot read the grant {value!r}; write it as 'anyuid:default' or as the oc adm policy command."
            )
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
    scc_now: str | None  # the SCC admission picks with the existing grants (None: rejected)
    works_now: bool  # admitted, and the image gets what it needs
    least_scc: str | None  # least-privileged SCC that, granted alone, makes it work (None: works now / none)
    reasons: list[str] = field(default_factory=list)
    message: str = ""  # the rejection message with the existing grants, if rejected
    reasons_by_scc: dict = field(default_factory=dict, repr=False)  # SCC -> why it does not let this pod work
    scc_planned: str | None = None  # the SCC admission picks once the plan's grants exist (checked with admit)
    works_planned: bool = False  # ... and the image gets what it needs there
    captured: str = ""  # a sentence when a grant made for a sibling takes this pod

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class ServiceAccountPlan:
    name: str
    workloads: list[str]
    sccs: tuple = ()  # the SCCs to grant, most privileged first (empty: nothing needed, or nothing helps)
    works_now: bool = False
    reasons: list[str] = field(default_factory=list)
    unsolvable: bool = False  # some workload of it cannot be made to work (see the plan's warnings)
    planned_for: dict = field(default_factory=dict)  # SCC -> the workloads it is granted for
    reasons_by_scc: dict = field(default_factory=dict)  # SCC -> why those workloads need it

    @property
    def grant(self) -> str | None:
        """The single SCC when the plan grants one; with several, the most privileged of them (see ``sccs``)."""
        return self.sccs[0] if self.sccs else None


@dataclass
class GrantReview:
    grant: Grant
    verdict: str  # needed | more than needed | unneeded | wrong | unknown SCC | missing
    reason: str
    workloads: tuple = ()  # the workloads this grant admits when the whole list is granted


@dataclass
class Landing:
    """Where one workload lands when a given set of grants exists, as the admission engine decides."""

    workload: str
    service_account: str
    scc: str | None
    works: bool
    reasons: tuple = ()
    message: str = ""  # admission's rejection message, when rejected


@dataclass
class SetReview:
    """A list of grants judged together: where every workload lands with all of them, and a verdict per grant."""

    reviews: list[GrantReview]
    landings: list[Landing]

    @property
    def works(self) -> bool:
        return all(landing.works for landing in self.landings)

    @property
    def summary(self) -> str:
        failing = [landing for landing in self.landings if not landing.works]
        total = len(self.landings)
        if not failing:
            return f"Together these grants make all {total} workloads work."
        names = ", ".join(
            f"{each.workload} ({'admitted by ' + each.scc if each.scc else 'rejected'})" for each in failing
        )
        return f"Together these grants make {total - len(failing)} of {total} workloads work; still failing: {names}."


@dataclass
class Plan:
    namespace: str
    openshift_version: str
    workloads: list[WorkloadPlan]
    service_accounts: list[ServiceAccountPlan]
    notes: list[str]
    existing_grants: list[Grant]
    skipped: list[str] = field(default_factory=list)  # objects that run no pods, as Kind/name
    unknown_images: list[str] = field(default_factory=list)  # images image-requirements.yaml says nothing about
    captures: list[str] = field(default_factory=list)  # grants made for one pod that take a sibling
    warnings: list[str] = field(default_factory=list)  # what a reader must see: captures, pods no plan serves,
    #                                                    images with no known requirements (also in notes)
    # What `helm test` needs on top: its hook pods planned with this plan's grants in place (None: no test hooks).
    # Kept apart, since the install never creates them and a reviewer may decline them.
    test_hooks: Plan | None = None
    _landings: object = field(repr=False, default=None)
    _scc_names: tuple = field(repr=False, default=())
    _points: dict = field(repr=False, default_factory=dict)
    _order: tuple = field(repr=False, default=())

    def _in_admission_order(self, sccs) -> list[str]:
        return sorted(sccs, key=lambda name: self._order.index(name) if name in self._order else len(self._order))

    def grants(self) -> list[Grant]:
        return sorted(
            Grant(scc, sa.name, " ".join(sa.reasons_by_scc.get(scc) or sa.reasons))
            for sa in self.service_accounts
            for scc in sa.sccs
        )

    def commands(self, namespace: str | None = None) -> list[str]:
        """The needed grants, one `oc adm policy add-scc-to-user <scc> -z <sa>` line each, sorted."""
        return sorted(grant.command(namespace) for grant in self.grants())

    def remove_commands(self, namespace: str | None = None) -> list[str]:
        """The matching `oc adm policy remove-scc-from-user` lines, to undo the plan."""
        return sorted(grant.remove_command(namespace) for grant in self.grants())

    def landings(self, grants) -> list[Landing]:
        """Where each workload lands, and whether it works, with these grants added to the existing ones."""
        return self._landings([Grant.coerce(g) for g in grants])

    def review(self, grants) -> list[GrantReview]:
        """Judge a list of grants against this plan, as a set: which are needed, unneeded, too broad or wrong."""
        return self.review_set(grants).reviews

    def review_set(self, grants) -> SetReview:
        """The list granted together: where every workload lands, then one verdict per grant and per missing one."""
        grants = [Grant.coerce(g) for g in grants]
        known = [g for g in grants if g.scc in self._scc_names]
        landings = self.landings(known)
        by_sa = {sa.name: sa for sa in self.service_accounts}
        index = {
            sa.name: [i for i, w in enumerate(self.workloads) if w.service_account == sa.name]
            for sa in self.service_accounts
        }
        reviews = [self._review_one(g, known, landings, by_sa, index) for g in grants]
        given = {(g.scc, g.service_account) for g in grants}
        given_sas = {g.service_account for g in grants}
        for grant in self.grants():
            if (grant.scc, grant.service_account) in given:
                continue
            sa = by_sa[grant.service_account]
            also = " (the list gives it another SCC)" if grant.service_account in given_sas else ""
            wanted = sa.planned_for.get(grant.scc) or sa.workloads
            only = f", for {', '.join(wanted)}" if wanted != sa.workloads else ""
            reviews.append(
                GrantReview(
                    grant,
                    "missing",
                    f"{grant.service_account} runs {', '.join(sa.workloads)} and needs {grant.scc}{also}{only}.",
                )
            )
        return SetReview(reviews, landings)

    def _review_one(self, grant: Grant, known, landings, by_sa, index) -> GrantReview:
        if grant.scc not in self._scc_names:
            return GrantReview(
                grant,
                "unknown SCC",
                f"There is no SCC named {grant.scc} among OpenShift {self.openshift_version}'s defaults.",
            )
        sa = by_sa.get(grant.service_account)
        if sa is None:
            same = sorted(s.name for s in self.service_accounts if grant.scc in s.sccs)
            instead = f" The workloads that need {grant.scc} run as {', '.join(same)}." if same else ""
            return GrantReview(
                grant, "wrong", f"No workload here runs as service account {grant.service_account}.{instead}"
            )
        mine = index[sa.name]
        on_it = [i for i in mine if landings[i].scc == grant.scc]
        labels = tuple(self.workloads[i].label for i in on_it)
        if grant.scc in sa.sccs:
            wanted = ", ".join(sa.planned_for.get(grant.scc) or sa.workloads)
            return GrantReview(
                grant,
                "needed",
                f"Without it, {wanted} would fail: " + " ".join(sa.reasons_by_scc.get(grant.scc) or sa.reasons),
                labels,
            )
        broken = [i for i in on_it if not landings[i].works]
        if broken:
            why = " ".join(dict.fromkeys(r for i in broken for r in landings[i].reasons))
            names = ", ".join(self.workloads[i].label for i in broken)
            return GrantReview(
                grant,
                "wrong",
                f"With the list's grants, {names} would be admitted by {grant.scc} and still fail: {why}",
                labels,
            )
        failing = [i for i in mine if not landings[i].works]
        if not on_it:
            if failing:
                why = " ".join(
                    dict.fromkeys(
                        r
                        for i in failing
                        for r in (self.workloads[i].reasons_by_scc.get(grant.scc) or landings[i].reasons)
                    )
                )
                return GrantReview(
                    grant,
                    "wrong",
                    f"With {grant.scc}, {', '.join(self.workloads[i].label for i in failing)} would still fail: {why}",
                )
            chosen = sorted({landings[i].scc for i in mine if landings[i].scc})
            return GrantReview(
                grant, "unneeded", f"The workloads of {sa.name} are admitted without it (by {', '.join(chosen)})."
            )
        without = self.landings([g for g in known if g != grant])
        if all(without[i].works for i in mine):
            moved = ", ".join(f"{self.workloads[i].label} from {without[i].scc}" for i in on_it if without[i].scc)
            return GrantReview(
                grant,
                "unneeded",
                f"The workloads of {sa.name} work without it; it only moves {moved} to {grant.scc}."
                if moved
                else f"The workloads of {sa.name} work without it.",
                labels,
            )
        if not sa.sccs:  # the plan found no set that serves all of the account's workloads (see its warnings)
            return GrantReview(
                grant,
                "more than needed",
                f"The plan grants {sa.name} nothing: its workloads cannot all work together; "
                f"{', '.join(labels)} would run under {grant.scc}.",
                labels,
            )
        strongest = max(self._points[s] for s in sa.sccs)
        needs = " and ".join(self._in_admission_order(sa.sccs))
        if strongest < self._points[grant.scc]:
            return GrantReview(
                grant,
                "more than needed",
                f"{sa.name} needs only {needs}, which allows less than {grant.scc}. " + " ".join(sa.reasons),
                labels,
            )
        return GrantReview(
            grant, "unneeded", f"The plan's {needs} for {sa.name} admits {', '.join(labels)} as well.", labels
        )

    def render(self, namespace: str | None = None) -> str:
        """A plain-text report; needed grants are the only lines that start with `oc adm policy add-scc-to-user`."""
        lines = [f"SCC plan for namespace {self.namespace} (OpenShift {self.openshift_version})", ""]
        lines.append("Workloads (the SCC admission picks now, and once the planned grants exist):")
        for w in self.workloads:
            now = f"admitted by {w.scc_now}" if w.scc_now else "rejected"
            state = f"works ({now})" if w.works_now else f"fails ({now})"
            if w.works_planned and w.scc_planned != w.scc_now:
                state += f"; with the plan: admitted by {w.scc_planned}"
            elif not w.works_planned and not w.works_now:
                state += "; no plan makes it work"
            lines.append(f"  {w.label} (service account {w.service_account}): {state}")
            for reason in w.reasons:
                lines.append(f"    - {reason}")
        lines += ["", "Service accounts:"]
        for sa in self.service_accounts:
            if sa.sccs:
                verdict = f"needs {' and '.join(self._in_admission_order(sa.sccs))}"
            elif sa.unsolvable:
                verdict = "no default SCC makes all its workloads work"
            else:
                verdict = "needs no grant"
            lines.append(f"  {sa.name}: {verdict} ({', '.join(sa.workloads)})")
            if len(sa.sccs) > 1:
                for scc in self._in_admission_order(sa.sccs):
                    lines.append(f"    - {scc} for {', '.join(sa.planned_for.get(scc) or sa.workloads)}")
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
        lines += self.test_hook_lines(namespace)
        return "\n".join(lines)

    def test_hook_lines(self, namespace: str | None = None) -> list[str]:
        """What `helm test` needs beyond the install's grants, said apart (never an `oc adm policy` line of its own,
        so the install's grants stay the only ones)."""
        if self.test_hooks is None:
            return []
        hooks = ", ".join(w.label for w in self.test_hooks.workloads)
        extra = self.test_hooks.commands(namespace)
        failing = [w.label for w in self.test_hooks.workloads if not w.works_planned]
        lines = ["", f"helm test ({hooks}):"]
        if extra:
            lines += [f"  also needs `{command}`" for command in extra]
        else:
            lines.append("  needs no grant beyond these.")
        lines += [f"  {label} works under no SCC a grant could give" for label in failing]
        return lines


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
            problems.append(
                templates["image_non_root"].format(
                    workload=workload, repository=repository, scc=scc, container=container.get("name", "")
                )
            )
        elif need.needs_uid is not None and uid != need.needs_uid:
            problems.append(
                templates["image_uid"].format(
                    workload=workload, repository=repository, needs=need.needs_uid, why=need.why, scc=scc, uid=uid
                )
            )
    return list(dict.fromkeys(problems))


@dataclass(frozen=True)
class _Outcome:
    """One pod under one SCC, as if that SCC were the only one its service account may use."""

    admits: bool
    works: bool
    reasons: tuple


def _providers(sccs, namespace_obj, version) -> dict | str:
    """One Provider per SCC for this namespace, or the reason admission would refuse every pod."""
    try:
        allocation = Allocation.from_namespace(namespace_obj)
        plain = has_feature(version, "plain_slice_values")
        return {scc_name(scc): Provider(scc, allocation, plain_slices=plain) for scc in sccs}
    except (NamespaceNotReady, ProviderError) as err:
        return str(err)


def _set_key(sccs, points_of) -> tuple:
    """Fewer grants first; then the least privileged set, compared most privileged member first; then by name."""
    return len(sccs), tuple(sorted((points_of[s] for s in sccs), reverse=True)), tuple(sorted(sccs))


def plan_grants(
    manifests,
    *,
    namespace=None,
    existing_grants=(),
    image_requirements=None,
    openshift_version="4.19",
    namespace_annotations=None,
    _test_hooks: bool = False,
) -> Plan:
    """Plan the SCC grants for rendered manifests (objects or multi-document YAML text). Helm test hooks are
    planned apart, with these grants in place, as the plan's ``test_hooks``."""
    version = normalize_version(openshift_version)
    objects = load_manifests(manifests) if isinstance(manifests, str) else list(manifests)
    requirements = (
        load_image_requirements(image_requirements) if not isinstance(image_requirements, list) else image_requirements
    )
    sccs = load_sccs(version)
    names = tuple(scc_name(s) for s in sccs)
    order = [scc_name(s) for s in sort_sccs(sccs)]
    points_of = {scc_name(s): points(s) for s in sccs}
    priority_of = {scc_name(s): priority(s) for s in sccs}
    notes, skipped, workloads, hooks = [], [], [], []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        label = f"{obj.get('kind', 'object')}/{(obj.get('metadata') or {}).get('name', '?')}"
        if is_test_hook(obj) and not _test_hooks:
            notes.append(f"{label} is a helm test hook, created only by `helm test`: planned apart.")
            hooks.append(obj)
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

    def can_use_with(extra) -> object:
        objects_ = list(base_rbac)
        for grant in list(grants) + list(extra):
            objects_.append(scc_grant_binding(grant.scc, namespace, [grant.service_account]))
        return can_use_from_rbac(objects_)

    images_of = [[c.get("image", "") for _, c in containers_of(w.pod.get("spec") or {})] for w in workloads]

    def landings_with(extra) -> list[Landing]:
        """Each pod admitted with the existing grants plus ``extra``, and whether its image works where it lands."""
        can_use = can_use_with(extra)
        result = []
        for workload in workloads:
            admitted = admit(
                workload.pod,
                namespace_obj,
                sccs,
                sa_subject=service_account_subject(namespace, workload.service_account),
                user=workload.creator,
                can_use=can_use,
                openshift_version=version,
            )
            if admitted.allowed:
                reasons = _image_problems(admitted.pod, admitted.scc, workload.name, requirements)
            else:
                reasons = list(dict.fromkeys(s for s in (explain(e, workload.name) for e in admitted.errors) if s)) or [
                    admitted.message
                ]
            result.append(
                Landing(
                    workload.label,
                    workload.service_account,
                    admitted.scc,
                    admitted.allowed and not reasons,
                    tuple(reasons),
                    admitted.message,
                )
            )
        return result

    # 1. Each pod with the existing grants: what happens today.
    current_can_use = can_use_with([])
    plans = []
    for index, (workload, now) in enumerate(zip(workloads, landings_with([]), strict=True)):
        plans.append(
            WorkloadPlan(
                workload.kind,
                workload.name,
                workload.service_account,
                images_of[index],
                now.scc,
                now.works,
                None,
                list(now.reasons),
                now.message,
            )
        )

    # 2. Each pod under each SCC alone: does that SCC admit it (the engine's own Provider, which admit runs for every
    # SCC it tries), and does its image work there. Admission's order and the usable set then decide where a pod
    # lands for any set of grants; step 4 checks the chosen set with admit itself.
    providers = _providers(sccs, namespace_obj, version)
    required_scc = has_feature(version, "required_scc_annotation")
    outcomes: list[dict[str, _Outcome]] = []
    for index, workload in enumerate(workloads):
        table = {}
        baseline = plans[index]
        required = (
            ((workload.pod.get("metadata") or {}).get("annotations") or {}).get(REQUIRED_SCC_ANNOTATION)
            if required_scc
            else None
        )
        for name in names:
            if baseline.works_now and baseline.scc_now is None:  # not subject to SCC admission (a Windows pod)
                table[name] = _Outcome(True, True, ())
                continue
            if isinstance(providers, str):  # no SCC can be configured for this namespace: admission refuses all
                table[name] = _Outcome(False, False, (baseline.message or providers,))
                continue
            if required and name != required:
                table[name] = _Outcome(False, False, (f"{workload.name} requires the SCC {required}.",))
                continue
            candidate, problems = providers[name].assign(workload.pod)
            if problems:
                sentences = [explain(error, workload.name) for error in problems]
                table[name] = _Outcome(
                    False,
                    False,
                    tuple(dict.fromkeys(s for s in sentences if s)) or tuple(str(error) for error in problems),
                )
            else:
                image = _image_problems(candidate, name, workload.name, requirements)
                table[name] = _Outcome(True, not image, tuple(image))
        outcomes.append(table)
        baseline.reasons_by_scc = {name: list(o.reasons) for name, o in table.items() if not o.works}

    usable = []
    for workload in workloads:
        subject = service_account_subject(namespace, workload.service_account)
        usable.append(
            {
                name
                for scc, name in zip(sccs, names, strict=True)
                if applies_to(scc, subject, namespace, current_can_use)
                or applies_to(scc, workload.creator, namespace, current_can_use)
            }
        )

    def lands(index: int, granted) -> str | None:
        if plans[index].works_now and plans[index].scc_now is None:
            return None  # exempt from SCC admission
        table, now = outcomes[index], usable[index]
        return next((name for name in order if (name in now or name in granted) and table[name].admits), None)

    def works(index: int, granted) -> bool:
        if plans[index].works_now and plans[index].scc_now is None:
            return True
        landing = lands(index, granted)
        return landing is not None and outcomes[index][landing].works

    # 3. Per service account, the set of SCCs to grant.
    by_sa: dict[str, list[int]] = {}
    for index, workload in enumerate(workloads):
        by_sa.setdefault(workload.service_account, []).append(index)
    ranked = [scc_name(s) for s in by_restriction(sccs)]
    sa_plans, planned_grants, captures, warnings = [], [], [], []
    expected: dict[int, tuple[str | None, bool]] = {}  # pod -> (SCC it should land on, works there), as planned
    for sa, indexes in sorted(by_sa.items()):
        labels = [plans[i].label for i in indexes]
        subject = service_account_subject(namespace, sa)
        sa_usable = {
            name for scc, name in zip(sccs, names, strict=True) if applies_to(scc, subject, namespace, current_can_use)
        }
        # An SCC the account (or every pod's creator) may already use changes nothing; one under which none of its
        # pods works can only make things worse.
        candidates = [
            name
            for name in ranked
            if name not in sa_usable
            and not all(name in usable[i] for i in indexes)
            and any(outcomes[i][name].works for i in indexes)
        ]
        for i in indexes:
            if not plans[i].works_now:
                plans[i].least_scc = next((name for name in candidates if works(i, (name,))), None)
        hopeless = [i for i in indexes if not works(i, ()) and plans[i].least_scc is None]
        wanted = [i for i in indexes if i not in hopeless]
        chosen = _choose(wanted, candidates, works, points_of)
        if chosen is None:  # each pod can work alone, but no set lets all of them work together
            chosen = _best_partial(wanted, candidates, works, points_of)
            failing = [plans[i].label for i in wanted if not works(i, chosen)]
            warnings.append(_reason_templates()["conflict"].format(service_account=sa, workloads=", ".join(failing)))
        for i in hopeless:
            # why not even the SCCs that admit it: what its image needs (else why today's admission refuses it)
            admitting = [name for name in ranked if outcomes[i][name].admits]
            why = (
                " ".join(outcomes[i][admitting[0]].reasons)
                if admitting
                else (" ".join(plans[i].reasons) or plans[i].message)
            )
            warnings.append(_reason_templates()["unsolvable"].format(workload=plans[i].label, why=why))
        chosen = sorted(chosen, key=lambda name: (-points_of[name], name))
        # Where each pod lands with the set, and where it would land with the least it needs alone: a pod that
        # lands on a more privileged SCC than that was captured by a grant made for a sibling.
        landing = {i: lands(i, chosen) for i in indexes}
        expected.update({i: (landing[i], works(i, chosen)) for i in wanted})
        alone = {i: lands(i, ()) if works(i, ()) else plans[i].least_scc for i in indexes}
        captured = {
            i
            for i in indexes
            if landing[i] in chosen
            and alone[i]
            and alone[i] != landing[i]
            and points_of[alone[i]] < points_of[landing[i]]
        }
        planned_for: dict[str, list[str]] = {}
        reasons_by_scc: dict[str, list[str]] = {}
        for scc in chosen:
            needing = [i for i in indexes if landing[i] == scc and not plans[i].works_now and i not in hopeless]
            # a grant every pod on which could do with less (one grant covering several needs) is for all of them
            wanted_here = [i for i in needing if i not in captured] or needing
            planned_for[scc] = [plans[i].label for i in wanted_here]
            reasons_by_scc[scc] = list(dict.fromkeys(r for i in wanted_here for r in plans[i].reasons))
        for i in sorted(captured):
            scc = landing[i]
            for_whom = [label for label in planned_for.get(scc, []) if label != plans[i].label]
            if priority_of[scc] > priority_of[alone[i]]:
                why = _reason_templates()["capture_priority"].format(priority=priority_of[scc], scc=scc, alone=alone[i])
            else:
                why = _reason_templates()["capture_single"].format(scc=scc)
            sentence = _reason_templates()["capture"].format(
                scc=scc,
                service_account=sa,
                wanted=", ".join(for_whom) or "its other workloads",
                workload=plans[i].label,
                alone=alone[i],
                why=why,
            )
            plans[i].captured = sentence
            captures.append(sentence)
        reasons = list(dict.fromkeys(r for i in indexes if not plans[i].works_now for r in plans[i].reasons))
        sa_plans.append(
            ServiceAccountPlan(
                sa,
                labels,
                tuple(chosen),
                all(plans[i].works_now for i in indexes),
                reasons,
                unsolvable=bool(hopeless),
                planned_for=planned_for,
                reasons_by_scc=reasons_by_scc,
            )
        )
        planned_grants += [Grant(name, sa) for name in chosen]

    # 4. The proof: the planned grants, all at once, through the admission engine itself.
    for index, (plan, landing) in enumerate(zip(plans, landings_with(planned_grants), strict=True)):
        plan.scc_planned, plan.works_planned = landing.scc, landing.works
        if index in expected and expected[index] != (landing.scc, landing.works):  # never hidden: a planner bug
            warnings.append(
                f"the admission engine admits {plan.label} by {landing.scc or 'no SCC'} (works: "
                f"{landing.works}), not as planned ({expected[index][0]}); report this plan."
            )
    warnings += captures
    unknown = unknown_images([image for images in images_of for image in images], requirements)
    for image in unknown:
        users = [plans[i].label for i, images in enumerate(images_of) if image in images]
        warnings.append(_reason_templates()["unknown_image"].format(image=image, workloads=", ".join(users)))
    notes += warnings
    test_plan = (
        plan_grants(
            hooks,
            namespace=namespace,
            existing_grants=[*grants, *planned_grants],
            image_requirements=requirements,
            openshift_version=version,
            namespace_annotations=namespace_annotations,
            _test_hooks=True,
        )
        if hooks
        else None
    )
    return Plan(
        namespace,
        version,
        plans,
        sa_plans,
        notes,
        grants,
        skipped,
        unknown,
        captures,
        warnings,
        test_plan,
        landings_with,
        names,
        points_of,
        tuple(order),
    )


def _choose(wanted, candidates, works, points_of) -> tuple | None:
    """The first set, in _set_key order, under which every wanted pod works; None when no set does."""
    for size in range(len(candidates) + 1):
        for chosen in sorted(combinations(candidates, size), key=lambda c: _set_key(c, points_of)):
            if all(works(i, chosen) for i in wanted):
                return chosen
    return None


def _best_partial(wanted, candidates, works, points_of) -> tuple:
    """When no set works for all: the one that makes the most pods work, then in _set_key order."""
    best, best_key = (), None
    for size in range(len(candidates) + 1):
        for chosen in combinations(candidates, size):
            key = (-sum(works(i, chosen) for i in wanted), _set_key(chosen, points_of))
            if best_key is None or key < best_key:
                best, best_key = chosen, key
    return best


__all__ = [
    "Grant",
    "GrantReview",
    "Landing",
    "Plan",
    "ServiceAccountPlan",
    "SetReview",
    "WorkloadPlan",
    "plan_grants",
    "seed_recipe_grants",
    "explain",
]
