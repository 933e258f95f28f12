"""Workshop mode: one instructor (cluster-admin), many learners on one cluster.

Each learner (a user name as the cluster knows it, e-mail-style ones included) gets a project named
``<learner>-clearml`` with the name made DNS-safe (data/workshop.yaml), is its admin, and finds there what only an
admin of the cluster can do: the SCC grants its ClearML service accounts need (namespaced RoleBindings,
`oc adm policy add-scc-to-user -n <project>` semantics, computed by the planner from the rendered chart) and a
ResourceQuota/LimitRange sized for one install. On the practice cluster each learner also gets a user with a bearer
token (an OAuthAccessToken, as OpenShift's OAuth server makes) and ``<out>/<learner>.kubeconfig``; on a real cluster
the learners are existing users. Every learner gets ``<out>/<learner>.handout.md``.

Safe by default: grants are planned for the hardened profile unless another is asked for, and a plan granting an SCC
that opens the node (read from the SCC's fields: privileged, host network/ports/PID/IPC, hostPath) is refused unless
allowed. Provisioning converges: grants the plan no longer asks for are revoked.

Containment, both ways: while the workshop runs, OpenShift's ``self-provisioners`` ClusterRoleBinding is emptied (its
subjects kept on it; teardown gives them back), so learners cannot make projects outside their quota — the RBAC object
a real cluster evaluates, not a check of the lab's own. It affects every user of the cluster for the workshop's
duration, which is how OpenShift documents it for classrooms. Projects a learner requested after their workshop
project anyway (self-provisioning given back by hand, say) are tracked by their requester annotation, shown by
progress and deleted by teardown; those they had before the workshop stay theirs. Provisioning first checks that the
free storage the cluster publishes holds what the learners' quotas allow them to claim.

What the workshop is lives on the cluster, not in local files: the projects carry the learner's name, the chart
version, profile and grants in annotations, the tokens a label. So progress, reset and teardown work from any machine
logged in as the instructor, and provisioning and teardown can be repeated after an interruption.

Progress is read from the cluster with the instructor's credentials: each step's own check against the learner's
project, the release's status, and the outcome each of the learner's runs recorded in their project (workshop_mode:
ConfigMap clearml-lab-steps). A cell is pass, FAIL (tried and failed) or - (not reached). Two steps keep their state
on the learner's machine (helm's repository list, values.yaml): the cluster sees them through the release the learner
installed, else through what the learner's runs recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from html import escape
from importlib import resources
from pathlib import Path

import yaml
from kubernetes.utils.quantity import parse_quantity

from . import chart, diagnose, steps
from .credentials import new_token, oauth_token_name, write_kubeconfig
from .errors import LabError, UsageError
from .kube import ApiFailure, wait_for
from .lab import Lab
from .oc import SCC_ROLE, add_scc_to_user, remove_scc_from_user
from .paths import lab_home
from .scc import load_sccs, plan_grants
from .steps.cleanup import leftovers as project_leftovers
from .steps.install import Install
from .steps.routes import Routes
from .steps.scc import openshift_version
from .steps.values import values_text
from .workshop_mode import CHART_REPO, CHART_VERSION, GRANTS, LEARNER, PROFILE, forget_records, read_records

ADMIN_BINDING = "admin"  # the name OpenShift's project template gives the requester's admin RoleBinding
CHART_ROLES = "clearml-chart-roles"  # Role + RoleBinding: the rules the chart's Roles grant, held by the learner
TOKENS = "/apis/oauth.openshift.io/v1/oauthaccesstokens"
UID_RANGE = "openshift.io/sa.scc.uid-range"
WORKERS = 4  # learners handled at once; the cluster, not this process, does the work


@lru_cache(maxsize=1)
def budget() -> dict:
    return yaml.safe_load(resources.files("clearml_lab").joinpath("data/workshop.yaml").read_text())


# A learner is a user of the cluster: OpenShift user names may be e-mail-style (ana.lopez, ana.lopez@uni.edu).
_USER_NAME = re.compile(r"^[a-z0-9]([a-z0-9._@+-]*[a-z0-9])?$")
USER_NAME_MAX = 128


def slug(learner: str) -> str:
    """The DNS-safe form of a learner's user name, for their project and labels: lower-case letters, digits and
    '-' (ana.lopez@uni.edu -> ana-lopez-uni-edu), short enough for the project name."""
    room = 63 - len(budget()["project_name"].format(learner=""))
    text = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", learner.lower())).strip("-")
    if len(text) > room:  # a long name keeps its start and a short hash of the whole, so two stay apart
        digest = hashlib.sha256(learner.encode()).hexdigest()[:6]
        text = f"{text[: room - 7].rstrip('-')}-{digest}"
    return text


def project_for(learner: str) -> str:
    """The learner's project: data/workshop.yaml's project_name with the DNS-safe form of their user name."""
    return budget()["project_name"].format(learner=slug(learner))


def check_learner_name(name: str) -> str:
    if not name or len(name) > USER_NAME_MAX or not _USER_NAME.match(name) or not slug(name):
        raise UsageError(
            f"learner name {name!r} is not a valid name: use the learner's user name on the cluster — "
            f"lower-case letters, digits, '.', '-', '_', '@' and '+', starting and ending with a letter "
            f"or digit (e.g. ada or ana.lopez@uni.edu)."
        )
    return name


def learner_names(count: int | None = None, names: str | list[str] | None = None, prefix: str = "learner") -> list[str]:
    """The learners of a workshop: ``names`` (a list or "a,b,c"), else ``prefix1`` … ``prefixN``."""
    if (count is None) == (names is None):
        raise UsageError("give either a number of learners (--learners N) or their names (--names a,b,...).")
    if names is not None:
        chosen = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    else:
        if count < 1:
            raise UsageError(f"--learners {count}: give a number of learners of 1 or more.")
        chosen = [f"{prefix}{i}" for i in range(1, count + 1)]
    if not chosen:
        raise UsageError("no learner names given: use --names a,b,... with at least one name.")
    if len(set(chosen)) != len(chosen):
        raise UsageError(f"learner names repeat ({', '.join(chosen)}): give each learner once.")
    projects: dict[str, str] = {}
    for name in chosen:
        check_learner_name(name)
        other = projects.setdefault(project_for(name), name)
        if other != name:
            raise UsageError(
                f"learners {other} and {name} would share project {project_for(name)}: their user names "
                f"differ only in punctuation; give one of them another name."
            )
    return chosen


# ---- results ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LearnerSetup:
    learner: str
    project: str
    grants: tuple[str, ...]  # the `oc adm policy add-scc-to-user ... -n <project>` lines the plan asked for
    changes: tuple[str, ...]  # what this run changed (empty when everything was already in place)
    kubeconfig: str | None = None
    profile: str = ""
    granted: tuple[str, ...] = ()  # "<scc> to <service account>" for every grant in place now, new or kept
    new_grants: tuple[str, ...] = ()  # those of ``granted`` this run made
    revoked: tuple[str, ...] = ()  # "<scc> from <service account>": grants the plan no longer asks for, removed
    handout: str | None = None


@dataclass(frozen=True)
class ProvisionResult:
    learners: tuple[LearnerSetup, ...]
    target: str
    profile: str = ""
    notes: tuple[str, ...] = ()  # cluster-wide: containment, capacity

    def render_text(self) -> str:
        lines = [
            f"provisioned {len(self.learners)} learner(s) on {self.target}"
            + (f" with profile {self.profile}" if self.profile else "")
        ]
        lines += list(self.notes)
        if not any(s.kubeconfig for s in self.learners):
            lines.append("learners log in as themselves (existing users of the cluster); no kubeconfig was written")
        for s in self.learners:
            state = f"{len(s.changes)} change(s)" if s.changes else "already in place"
            lines.append(
                f"{s.learner}: project {s.project}, {len(s.grants)} SCC grant(s), {state}"
                + (f", kubeconfig {s.kubeconfig}" if s.kubeconfig else "")
                + (f", hand-out {s.handout}" if s.handout else "")
            )
            lines += [f"  {'granted' if g in s.new_grants else 'kept'} {g}" for g in s.granted]
            lines += [f"  revoked {r}: profile {s.profile} does not need it" for r in s.revoked]
            lines += [f"  {c}" for c in s.changes if c.startswith(("profile ", "chart version "))]
        return "\n".join(lines)


PASS, FAIL, UNREACHED = "pass", "FAIL", "-"  # the cells of the progress table


def natural_key(text: str) -> list:
    """learner2 before learner10: digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@dataclass(frozen=True)
class Cause:
    """One reason a learner is held up, and the fix for whoever can apply it (the instructor or the learner)."""

    text: str
    fix: str
    who: str  # instructor | learner
    step: str | None = None  # the step it holds up, when not the learner's current one

    def render(self) -> str:
        return f"{self.text} Fix ({self.who}): {self.fix}"


@dataclass(frozen=True)
class Row:
    learner: str
    project: str
    cells: dict  # step name -> pass | FAIL | - (not reached)
    details: dict  # step name -> one sentence on what the cluster shows for it
    causes: tuple[Cause, ...] = ()  # what holds the learner up now
    waiting: float | None = None  # seconds since the learner's last move on the current step (None: unknown)
    grace: float = 0.0  # how long a cause may last before the learner counts as stuck
    extra_projects: tuple[str, ...] = ()  # projects the learner made outside the workshop

    @property
    def current(self) -> str | None:
        """The first step that has not passed: where the learner is (None: all done)."""
        return next((step for step, cell in self.cells.items() if cell != PASS), None)

    @property
    def stuck(self) -> bool:
        """Held up by a known cause: at once for the instructor's (a missing grant), after the grace period for
        the learner's (an install still starting is not stuck)."""
        if self.current is None or not self.causes:
            return False
        if any(c.who == "instructor" for c in self.causes):
            return True
        return self.waiting is None or self.waiting >= self.grace

    @property
    def diagnoses(self) -> tuple[Cause, ...]:
        return self.causes


@dataclass(frozen=True)
class Progress:
    steps: tuple[str, ...]
    rows: tuple[Row, ...]
    refreshed: str = ""  # when the cluster was read, HH:MM:SS UTC
    target: str = ""

    HEAD = "LEARNER"
    AT = "AT"

    def totals(self) -> dict[str, int]:
        return {step: sum(row.cells.get(step) == PASS for row in self.rows) for step in self.steps}

    def table(self) -> list[list[str]]:
        """Header, one row per learner, then how many passed each step."""
        rows = [[self.HEAD, self.AT, *self.steps]]
        rows += [[row.learner, row.current or "done", *(row.cells[s] for s in self.steps)] for row in self.rows]
        totals = self.totals()
        rows.append(["passed", "", *(f"{totals[s]}/{len(self.rows)}" for s in self.steps)])
        return rows

    def render_table(self) -> str:
        rows = self.table()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)

    def stuck_lines(self) -> list[str]:
        return [
            f"{row.learner} is stuck at {c.step or row.current}: {c.render()}"
            for row in self.rows
            if row.stuck
            for c in row.causes
        ]

    def notes(self) -> list[str]:
        return [
            f"{row.learner} made project(s) outside the workshop: {', '.join(row.extra_projects)} (teardown "
            f"removes them)"
            for row in self.rows
            if row.extra_projects
        ]

    def counts(self) -> str:
        stuck = sum(row.stuck for row in self.rows)
        done = sum(row.current is None for row in self.rows)
        return f"{len(self.rows)} learner(s), {done} done, {stuck} stuck"

    def summary(self) -> str:
        return f"refreshed {self.refreshed}" + (f" from {self.target}" if self.target else "") + f": {self.counts()}"

    def render_text(self) -> str:
        if not self.rows:
            return f"no learners: nothing of a workshop is provisioned (refreshed {self.refreshed} from {self.target})."
        lines = [self.render_table(), "", self.summary()]
        lines += [f"STUCK {line}" for line in self.stuck_lines()]
        lines += self.notes()
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_html(self) -> str:
        """The table as HTML: passes green, failures red, unreached grey; stuck learners highlighted with one line
        per cause and whose fix it is; hover a cell for what the cluster shows."""
        colour = {PASS: "#2e7d32", FAIL: "#c62828", UNREACHED: "#9e9e9e"}
        head = "".join(f"<th>{escape(s)}</th>" for s in ("learner", "at", *self.steps, "needs"))
        body = []
        for row in self.rows:
            cells = "".join(
                f'<td title="{escape(row.details.get(s, ""))}" style="color:{colour[c]}">{c}</td>'
                for s, c in row.cells.items()
            )
            needs = "<br>".join(escape(c.render()) for c in row.causes) if row.stuck else ""
            style = ' style="background:#fff3cd;font-weight:bold"' if row.stuck else ""
            body.append(
                f"<tr{style}><td>{escape(row.learner)}</td><td>{escape(row.current or 'done')}</td>"
                f"{cells}<td>{needs}</td></tr>"
            )
        totals = self.totals()
        foot = "".join(f"<td>{totals[s]}/{len(self.rows)}</td>" for s in self.steps)
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"<tfoot><tr><td>passed</td><td></td>{foot}<td></td></tr></tfoot></table>"
            f"<p>{escape(self.summary())}</p>"
        )


@dataclass(frozen=True)
class ResetResult:
    learner: str
    to: str
    lines: tuple[str, ...]

    def render_text(self) -> str:
        return "\n".join([f"{self.learner} reset to the start of step {self.to}", *self.lines])


@dataclass(frozen=True)
class TeardownResult:
    removed: tuple[str, ...]
    leftovers: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.leftovers

    def render_text(self) -> str:
        lines = list(self.removed)
        lines += [f"left behind: {item}" for item in self.leftovers]
        lines.append(
            "nothing of the workshop is left on the cluster."
            if self.ok
            else f"{len(self.leftovers)} object(s) of the workshop are left; run teardown again."
        )
        return "\n".join(lines)


# ---- the learners, as the cluster knows them ----------------------------------------------------------------------
def learners(lab: Lab) -> dict[str, dict]:
    """learner -> their project, from the projects' annotations."""
    found = {}
    for project in lab.kube().list("projects").get("items", []):
        learner = (project["metadata"].get("annotations") or {}).get(LEARNER)
        if learner:
            found[learner] = project
    return dict(sorted(found.items(), key=lambda item: natural_key(item[0])))


def _learner_lab(lab: Lab, project: dict) -> Lab:
    notes = project["metadata"].get("annotations") or {}
    return lab.with_settings(
        namespace=project["metadata"]["name"],
        chart_version=notes.get(CHART_VERSION, lab.chart_version),
        profile=notes.get(PROFILE, lab.settings.profile),
    )


def _require_admin(lab: Lab) -> None:
    if not lab.kube().can_i("*", "*", group="*"):
        raise LabError(
            "workshop commands need cluster-admin (the instructor's login): use the instructor's "
            "kubeconfig or context (on the practice cluster, context kubeadmin)."
        )


# ---- provision ----------------------------------------------------------------------------------------------------
def host_access(scc: dict) -> list[str]:
    """What of the node an SCC opens to a pod (data/workshop.yaml host_access), read from the SCC's own fields;
    empty for an SCC that keeps pods off the node."""
    opened = [what for field_name, what in budget()["host_access"].items() if scc.get(field_name)]
    if "hostPath" in (scc.get("volumes") or []) or "*" in (scc.get("volumes") or []):
        if not scc.get("allowHostDirVolumePlugin"):
            opened.append(budget()["host_access"]["allowHostDirVolumePlugin"])
    return opened


def cluster_sccs(kube) -> dict[str, dict]:
    """The cluster's SCC objects by name (the instructor may list them); the release's defaults if it has none."""
    try:
        items = kube.list("securitycontextconstraints").get("items", [])
    except ApiFailure as err:
        if err.code not in (403, 404):
            raise
        items = []
    if not items:
        items = load_sccs()
    return {scc["metadata"]["name"]: scc for scc in items}


def risky_grants(kube, grants) -> list[str]:
    """One phrase per grant of an SCC that opens the node: "privileged to clearml-elastic (privileged
    containers, ...)"."""
    sccs = cluster_sccs(kube)
    found = []
    for grant in grants:
        opened = host_access(sccs.get(grant.scc) or {})
        if opened:
            found.append(f"{grant.scc} to {grant.service_account} ({', '.join(opened)})")
    return found


def _refuse_host_access(profile: str, risky: list[str]) -> LabError:
    return LabError(
        f"profile {profile} needs SCCs that open the node every learner shares: {'; '.join(risky)}. "
        f"A learner could then take over the node. Provision with the hardened profile (the default: "
        f"leave out --profile), or pass --allow-privileged if you accept that risk."
    )


def preflight_plan(lab: Lab, names: list[str]):
    """The grants the chart needs in a learner's project, planned before anything is created (with the UID block
    OpenShift usually hands out; the real plan per project follows once each has its range)."""
    ns = project_for(names[0])
    return plan_grants(_render(lab, ns), namespace=ns, openshift_version=openshift_version(lab.kube())).grants()


def provision(
    lab: Lab,
    names: list[str],
    out_dir: Path | None = None,
    *,
    profile: str | None = None,
    allow_privileged: bool = False,
    force: bool = False,
) -> ProvisionResult:
    """Prepare every learner; safe to repeat, and picks up where an interrupted run stopped.

    Least privilege by default: the grants are planned for ``profile`` (else the workshop's default, hardened), and
    a plan granting an SCC that opens the node (privileged, host network/ports/PID/IPC, hostPath) is refused before
    anything changes unless ``allow_privileged``. Re-provisioning with another profile converges: grants the new
    plan does not need are revoked and the projects' profile annotation follows."""
    _require_admin(lab)
    profile = profile or budget()["default_profile"]
    lab = lab.with_settings(profile=profile)
    kube = lab.kube()
    for name in names:  # refuse before changing anything: a project of that name that is not this learner's
        project = kube.get_or_none("projects", project_for(name))
        if project is not None and (project["metadata"].get("annotations") or {}).get(LEARNER) != name:
            raise LabError(
                f"project {project_for(name)} already exists and is not learner {name}'s workshop "
                f"project: choose another learner name, or delete that project first."
            )
    out = Path(out_dir) if out_dir else lab_home() / "workshop"
    _package_charts({lab.chart_version}, lab.chart_repo)
    risky = risky_grants(kube, preflight_plan(lab, names))
    if risky and not allow_privileged:
        raise _refuse_host_access(profile, risky)
    room = capacity(lab, names)
    if room.short and not force:
        raise LabError(room.refusal())
    notes = [*room.lines(), *contain(kube)]
    with ThreadPoolExecutor(WORKERS) as pool:
        setups = list(
            pool.map(
                lambda n: ensure_learner(lab, n, out if lab.is_practice else None, allow_privileged=allow_privileged),
                names,
            )
        )
    setups = [write_handout(lab, setup, out) for setup in setups]
    if risky:
        notes.append(f"WARNING: --allow-privileged: learners' pods may use {'; '.join(risky)}")
    return ProvisionResult(tuple(setups), lab.target.describe(), profile, tuple(notes))


# ---- capacity -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Capacity:
    """Whether the cluster can hold an install per learner: the storage the quota lets each claim, against the free
    storage the cluster publishes (CSIStorageCapacity of the default storage class)."""

    learners: int
    per_learner: str  # the quota's requests.storage
    needed: int  # bytes still to be claimed: each learner's quota less what their project already claims
    free: int | None  # bytes published as free; None when the cluster publishes nothing
    storage_class: str | None

    @property
    def short(self) -> bool:
        return self.free is not None and self.needed > self.free

    def lines(self) -> list[str]:
        if self.free is None:
            return [
                f"capacity: not checked — the cluster publishes no free storage (CSIStorageCapacity) for "
                f"{self.storage_class or 'a default storage class'}; {self.learners} learner(s) may claim up to "
                f"{_gi(self.needed)} more"
            ]
        verdict = "fits" if not self.short else "does NOT fit (--force)"
        return [
            f"capacity: {self.learners} learner(s) × {self.per_learner} may claim {_gi(self.needed)} more; "
            f"storage class {self.storage_class} has {_gi(self.free)} free — {verdict}"
        ]

    def refusal(self) -> str:
        return (
            f"the cluster cannot hold {self.learners} ClearML install(s): they may claim {_gi(self.needed)} more "
            f"({self.learners} × {self.per_learner}, the workshop quota, less what is claimed already) but storage "
            f"class {self.storage_class} has {_gi(self.free)} free. Provision fewer learners, free or add storage "
            f"(`clearml-lab practice serve --storage-capacity` on the practice cluster), or pass --force to "
            f"provision anyway."
        )


def _bytes(quantity) -> int:
    return int(parse_quantity(str(quantity)))


def _gi(n: int) -> str:
    return f"{n / 2**30:.0f}Gi" if n % 2**30 == 0 or n >= 10 * 2**30 else f"{n / 2**30:.1f}Gi"


def capacity(lab: Lab, names: list[str]) -> Capacity:
    kube = lab.kube()
    per = budget()["resource_quota"]["hard"]["requests.storage"]
    needed = 0
    for name in names:
        claimed = 0
        if kube.get_or_none("projects", project_for(name)) is not None:
            claimed = sum(
                _bytes((c["spec"].get("resources") or {}).get("requests", {}).get("storage", 0))
                for c in kube.list("persistentvolumeclaims", project_for(name)).get("items", [])
            )
        needed += max(_bytes(per) - claimed, 0)
    classes = kube.list("storageclasses").get("items", [])
    default = next(
        (
            c["metadata"]["name"]
            for c in classes
            if (c["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
        ),
        None,
    )
    try:
        published = [
            c
            for c in kube.request("GET", "/apis/storage.k8s.io/v1/csistoragecapacities").get("items", [])
            if c.get("storageClassName") == default and c.get("capacity") is not None
        ]
    except ApiFailure as err:
        if err.code not in (403, 404):
            raise
        published = []
    free = sum(_bytes(c["capacity"]) for c in published) if published else None
    return Capacity(len(names), per, needed, free, default)


# ---- containment ----------------------------------------------------------------------------------------------------
SELF_PROVISIONERS = "self-provisioners"  # OpenShift's ClusterRoleBinding to the self-provisioner ClusterRole
PAUSED = "clearml-lab.io/workshop-paused"  # on that binding: the subjects (and autoupdate) the workshop took away
AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


def contain(kube) -> list[str]:
    """Learners cannot create projects outside the workshop while it runs: the `self-provisioners`
    ClusterRoleBinding loses its subjects (with autoupdate off, as OpenShift's docs do it), which are kept on the
    binding itself for teardown to give back. Projects made before remain visible to progress and teardown
    (extra_projects)."""
    binding = kube.get_or_none("clusterrolebindings", SELF_PROVISIONERS)
    if binding is None:
        return ["projects: learners cannot create their own (this cluster has no self-provisioners binding)"]
    notes = binding["metadata"].get("annotations") or {}
    subjects = binding.get("subjects") or []
    if not subjects:
        return [
            "projects: learners cannot create their own (self-provisioning is off"
            + (" since the workshop began)" if PAUSED in notes else " on this cluster)")
        ]
    saved = json.loads(notes.get(PAUSED) or "{}") or {"autoupdate": notes.get(AUTOUPDATE)}
    saved["subjects"] = saved.get("subjects", []) + [s for s in subjects if s not in saved.get("subjects", [])]
    binding["metadata"]["annotations"] = {**notes, PAUSED: json.dumps(saved), AUTOUPDATE: "false"}
    binding["subjects"] = []
    kube.replace("clusterrolebindings", binding)
    who = ", ".join(f"{s.get('kind')} {s.get('name')}" for s in subjects)
    return [
        f"projects: learners cannot create their own while the workshop runs — ClusterRoleBinding "
        f"{SELF_PROVISIONERS} no longer binds {who}; teardown gives it back"
    ]


def release_containment(kube) -> list[str]:
    binding = kube.get_or_none("clusterrolebindings", SELF_PROVISIONERS)
    notes = (binding or {}).get("metadata", {}).get("annotations") or {}
    if PAUSED not in notes:
        return []
    saved = json.loads(notes[PAUSED])
    current = binding.get("subjects") or []
    binding["subjects"] = current + [s for s in saved.get("subjects", []) if s not in current]
    notes = {k: v for k, v in notes.items() if k not in (PAUSED, AUTOUPDATE)}
    if saved.get("autoupdate") is not None:
        notes[AUTOUPDATE] = saved["autoupdate"]
    binding["metadata"]["annotations"] = notes
    kube.replace("clusterrolebindings", binding)
    who = ", ".join(f"{s.get('kind')} {s.get('name')}" for s in saved.get("subjects", []))
    return [f"clusterrolebinding/{SELF_PROVISIONERS} binds {who} again: users may create projects"]


def extra_projects(kube, found: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """learner -> the other projects they requested since their workshop project was made (OpenShift records the
    requester on every project): outside their quota, so progress shows them and teardown removes them. Projects a
    learner had before the workshop are theirs and stay."""
    projects = kube.list("projects").get("items", [])
    seats = {}
    for p in projects:
        learner = (p["metadata"].get("annotations") or {}).get(LEARNER)
        if learner and (found is None or learner in found):
            seats[learner] = p["metadata"].get("creationTimestamp") or ""
    extra: dict[str, list[str]] = {}
    for p in projects:
        notes = p["metadata"].get("annotations") or {}
        requester = notes.get("openshift.io/requester")
        if notes.get(LEARNER) or requester not in seats:
            continue
        if (p["metadata"].get("creationTimestamp") or "") >= seats[requester]:
            extra.setdefault(requester, []).append(p["metadata"]["name"])
    return {k: sorted(v) for k, v in extra.items()}


def _package_charts(versions: set[str], repo: str | None = None) -> None:
    """Package each chart version once, before threads render it: the packaging of one process is not safe to run
    twice at the same time (its temporary file is named after the process)."""
    for version in versions:
        if version in chart.known_chart_versions(repo):
            chart.chart_package(version, repo)


def ensure_learner(lab: Lab, learner: str, out_dir: Path | None, *, allow_privileged: bool = True) -> LearnerSetup:
    kube, ns, changes = lab.kube(), project_for(learner), []
    existing = kube.get_or_none("projects", ns)
    if existing is not None:
        _follow_settings(kube, lab, existing, changes)
    else:
        # `oc adm new-project NS --admin=LEARNER`: the project, then the learner's admin binding below.
        try:
            kube.create(
                "projects",
                {
                    "apiVersion": "project.openshift.io/v1",
                    "kind": "Project",
                    "metadata": {
                        "name": ns,
                        "annotations": {
                            "openshift.io/requester": learner,
                            "openshift.io/display-name": f"ClearML lab of {learner}",
                            LEARNER: learner,
                            CHART_VERSION: lab.chart_version,
                            PROFILE: lab.settings.profile,
                            CHART_REPO: lab.chart_repo,
                        },
                    },
                },
            )
            changes.append(f'project "{ns}" created')
        except ApiFailure as err:
            if err.code != 409:
                raise
    if _ensure(
        kube,
        "rolebindings",
        ns,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": ADMIN_BINDING, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": learner}],
        },
    ):
        changes.append(f'clusterrole.rbac.authorization.k8s.io/admin added: "{learner}" (-n {ns})')
    for kind, resource in (("ResourceQuota", "resourcequotas"), ("LimitRange", "limitranges")):
        data = budget()["resource_quota" if kind == "ResourceQuota" else "limit_range"]
        spec = {"hard": data["hard"]} if kind == "ResourceQuota" else {"limits": data["limits"]}
        if _ensure(
            kube,
            resource,
            ns,
            {"apiVersion": "v1", "kind": kind, "metadata": {"name": data["name"], "namespace": ns}, "spec": spec},
        ):
            changes.append(f"{kind.lower()}/{data['name']} set")
    manifests = _render(lab, ns)
    # The chart's own Roles (e.g. Elasticsearch's `use` of a PodSecurityPolicy) grant rules a project admin does not
    # hold, and RBAC forbids granting what you do not hold; the learner is given exactly those rules.
    rules = [rule for m in manifests if m.get("kind") == "Role" for rule in m.get("rules") or []]
    if rules and _ensure(
        kube,
        "roles",
        ns,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": CHART_ROLES, "namespace": ns},
            "rules": rules,
        },
    ):
        changes.append(f"role/{CHART_ROLES} set: the rules the chart's own Roles grant")
    if rules and _ensure(
        kube,
        "rolebindings",
        ns,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": CHART_ROLES, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": CHART_ROLES},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": learner}],
        },
    ):
        changes.append(f'role.rbac.authorization.k8s.io/{CHART_ROLES} added: "{learner}" (-n {ns})')
    grants = plan_for(lab, ns, manifests)
    if not allow_privileged:  # the project's own plan, with its real UID range, is held to the same rule
        risky = risky_grants(kube, grants)
        if risky:
            raise _refuse_host_access(lab.settings.profile, risky)
    new, revoked = [], []
    for grant in grants:
        created, line = add_scc_to_user(kube, grant.scc, grant.service_account, ns, namespaced=True)
        if created:
            changes.append(f"{line} (-n {ns})")
            new.append(f"{grant.scc} to {grant.service_account}")
    planned = {(g.scc, g.service_account) for g in grants}
    for scc, sa in project_scc_grants(kube, ns):  # converge: what the plan no longer asks for goes
        if (scc, sa) not in planned:
            _, line = remove_scc_from_user(kube, scc, sa, ns, namespaced=True, only_if_recorded=False)
            changes.append(f"{line} (-n {ns})")
            revoked.append(f"{scc} from {sa}")
    recorded = ",".join(f"{g.scc}:{g.service_account}" for g in grants)  # what progress compares against
    project = kube.get("projects", ns)
    if (project["metadata"].get("annotations") or {}).get(GRANTS) != recorded:
        kube.patch("namespaces", ns, {"metadata": {"annotations": {GRANTS: recorded}}})
    kubeconfig = ensure_credentials(lab, learner, out_dir, changes) if out_dir else None
    return LearnerSetup(
        learner,
        ns,
        tuple(g.command(ns) for g in grants),
        tuple(changes),
        kubeconfig,
        lab.settings.profile,
        tuple(f"{g.scc} to {g.service_account}" for g in grants),
        tuple(new),
        tuple(revoked),
    )


def project_scc_grants(kube, ns: str) -> list[tuple[str, str]]:
    """(scc, service account) for every service account of the project that a RoleBinding in it lets use an SCC
    (`oc adm policy add-scc-to-user -n`): whoever made them, the workshop project's grants are the workshop's."""
    prefix = SCC_ROLE.format("")
    found = set()
    for binding in kube.list("rolebindings", ns).get("items", []):
        role = (binding.get("roleRef") or {}).get("name", "")
        if binding.get("roleRef", {}).get("kind") != "ClusterRole" or not role.startswith(prefix):
            continue
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("namespace", ns) == ns:
                found.add((role[len(prefix) :], subject["name"]))
    return sorted(found)


def _follow_settings(kube, lab: Lab, project: dict, changes: list[str]) -> None:
    """A project provisioned before with another profile or chart version: its annotations follow this run's."""
    notes = project["metadata"].get("annotations") or {}
    wanted = {PROFILE: lab.settings.profile, CHART_VERSION: lab.chart_version, CHART_REPO: lab.chart_repo}
    differ = {k: v for k, v in wanted.items() if notes.get(k) != v}
    if not differ:
        return
    kube.patch("namespaces", project["metadata"]["name"], {"metadata": {"annotations": differ}})
    for key, what in ((PROFILE, "profile"), (CHART_VERSION, "chart version"), (CHART_REPO, "chart repository")):
        if key in differ:
            changes.append(f"{what} {notes.get(key) or '(none)'} -> {differ[key]}")


def _ensure(kube, resource: str, ns: str, wanted: dict) -> bool:
    """Create the object, or bring its spec/roleRef/subjects back to what the workshop wants; True if changed."""
    current = kube.get_or_none(resource, wanted["metadata"]["name"], ns)
    keys = [k for k in ("spec", "rules", "roleRef", "subjects") if k in wanted]
    if current is None:
        try:
            kube.create(resource, wanted, ns)
        except ApiFailure as err:
            if err.code != 409:  # made meanwhile by a resumed run: it is there, which is what we want
                raise
        return True
    if all(_contains(current.get(k), wanted[k]) for k in keys):
        return False
    if resource == "rolebindings" and current.get("roleRef") != wanted["roleRef"]:
        raise LabError(
            f"rolebinding {wanted['metadata']['name']} in {ns} refers to another role: delete it and provision again."
        )
    for k in keys:  # subjects someone added are kept; the workshop's own are added
        current[k] = wanted[k] if k != "subjects" else (current.get(k) or []) + wanted[k]
    kube.replace(resource, current, ns)
    return True


def _contains(have, want) -> bool:
    """Whether ``have`` already holds everything in ``want`` (quantities compared as the server normalises them)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_contains(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and all(any(_contains(h, w) for h in have) for w in want)
    try:
        return parse_quantity(str(have)) == parse_quantity(str(want))
    except (ValueError, TypeError):
        return have == want


def _render(lab: Lab, ns: str) -> list[dict]:
    return chart.render(
        lab.chart_version,
        repo=lab.chart_repo,
        profile=lab.settings.profile,
        overrides=lab.settings.overrides or None,
        release=lab.settings.release,
        namespace=ns,
        kube_version=lab.server_version(),
    )


def plan_for(lab: Lab, ns: str, manifests: list[dict]):
    """The grants the planner computes for the chart rendered into this project (with its UID range)."""
    kube = lab.kube()
    if not wait_for(
        kube,
        "projects",
        lambda items: any(
            p["metadata"]["name"] == ns and (p["metadata"].get("annotations") or {}).get(UID_RANGE) for p in items
        ),
        timeout=60,
    ):
        raise LabError(
            f"project {ns} got no UID range from OpenShift within a minute: check the cluster's "
            f"namespace controller, then provision again."
        )
    project = kube.get("projects", ns)
    return plan_grants(
        manifests,
        namespace=ns,
        namespace_annotations=project["metadata"].get("annotations"),
        openshift_version=openshift_version(kube),
    ).grants()


def ensure_credentials(lab: Lab, learner: str, out_dir: Path, changes: list[str]) -> str:
    """Practice cluster: a user token for the learner and ``out_dir/<learner>.kubeconfig`` naming their project.

    The kubeconfig is written before the token object exists, so an interrupted run leaves at worst a file whose
    token the next run registers; the cluster keeps only the token's hash (the object's name)."""
    path = Path(out_dir) / f"{learner}.kubeconfig"
    token = _token_in(path)
    if token is None:
        token = new_token()
        write_kubeconfig(path, _learner_kubeconfig(lab, learner, token))
        changes.append(f"kubeconfig {path} written")
    elif _read_yaml(path) != _learner_kubeconfig(lab, learner, token):  # e.g. the server moved to another port
        write_kubeconfig(path, _learner_kubeconfig(lab, learner, token))
        changes.append(f"kubeconfig {path} updated")
    kube, name = lab.kube(), oauth_token_name(token)
    stored = _get_token(kube, name)
    if stored is None:
        kube.request(
            "POST",
            TOKENS,
            body={
                "apiVersion": "oauth.openshift.io/v1",
                "kind": "OAuthAccessToken",
                "metadata": {"name": name, "labels": {LEARNER: slug(learner)}},
                "userName": learner,
                "clientName": "openshift-challenging-client",
                "scopes": ["user:full"],
                "expiresIn": 86400,
                "redirectURI": "",
            },
        )
        changes.append(f"user {learner} may log in with the token in {path.name}")
    elif stored.get("userName") != learner:
        raise LabError(f"{path} holds another user's token: delete the file and provision again.")
    return str(path)


HANDOUT = "{learner}.handout.md"


def write_handout(lab: Lab, setup: LearnerSetup, out_dir: Path) -> LearnerSetup:
    """``out_dir/<learner>.handout.md``: one page for the learner — where their project is, how to open the lab
    with their kubeconfig (or their own login on a real cluster), what the instructor prepared. No token in it."""
    hard = budget()["resource_quota"]["hard"]
    who, ns = setup.learner, setup.project
    if setup.kubeconfig:
        name = Path(setup.kubeconfig).name
        login = [
            f"Your login is the file **{name}**, handed out with this page. Keep it to yourself: it is your "
            f"password. Put it in the lab's folder (the one with the `Makefile`).",
            "",
            "## Open the lab",
            "",
            f"- **Notebooks**: `KUBECONFIG=$PWD/{name} make lab` opens JupyterLab on notebook 00. (Or, in an "
            f"open lab, notebook 00's target picker: choose *kubeconfig file* and give the full path of "
            f"`{name}`.)",
            f"- **Command line**: `clearml-lab --kubeconfig {name} run all`, or one step at a time "
            f"(`clearml-lab --kubeconfig {name} steps` lists them).",
            "",
            f"You are in the right place when the lab says *Workshop mode: you are learner {who}*: try "
            f"`clearml-lab --kubeconfig {name} check project`.",
        ]
    else:
        login = [
            f"Log in as **{who}** with your usual credentials: `oc login {lab.target.server}`.",
            "",
            "## Open the lab",
            "",
            "- **Notebooks**: `make lab` in the lab's folder, after `oc login` (the lab uses your current login).",
            "- **Command line**: `clearml-lab run all`, or one step at a time (`clearml-lab steps`).",
            "",
            f"You are in the right place when the lab says *Workshop mode: you are learner {who}*: try "
            f"`clearml-lab check project`.",
        ]
    text = "\n".join(
        [
            f"# ClearML on OpenShift — workshop hand-out for {who}",
            "",
            f"- **Cluster**: {lab.target.server}",
            f"- **Your project**: `{ns}` (you are its admin; work only there — other projects cannot be created during "
            f"the workshop)",
            f"- **Prepared for you**: chart {lab.chart_version}, values profile {setup.profile}; SCC grants "
            f"{', '.join(setup.granted) or 'none'}",
            f"- **Your budget**: {hard['requests.storage']} of storage in {hard['persistentvolumeclaims']} volume claims, "
            f"{hard['pods']} pods (ResourceQuota {budget()['resource_quota']['name']}) — one ClearML install",
            "",
            *login,
            "",
            "## When you are stuck",
            "",
            "Your instructor sees every learner's progress and can put you back at the start of any step "
            f"(`clearml-lab workshop reset {who} --to STEP`). The lab's `clearml-lab diagnose` says what it sees in your "
            "project.",
            "",
        ]
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / HANDOUT.format(learner=who)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return replace(setup, handout=str(path))


def _get_token(kube, name: str) -> dict | None:
    try:
        return kube.request("GET", f"{TOKENS}/{name}")
    except ApiFailure as err:
        if err.code == 404:
            return None
        raise


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _token_in(path: Path) -> str | None:
    try:
        return _read_yaml(path)["users"][0]["user"]["token"]
    except (KeyError, IndexError, TypeError):
        return None


def _learner_kubeconfig(lab: Lab, learner: str, token: str) -> dict:
    config = yaml.safe_load(Path(lab.target.kubeconfig).read_text())
    context = {c["name"]: c["context"] for c in config["contexts"]}[lab.target.context]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [cluster],
        "users": [{"name": learner, "user": {"token": token}}],
        "contexts": [
            {
                "name": learner,
                "context": {"cluster": cluster["name"], "user": learner, "namespace": project_for(learner)},
            }
        ],
        "current-context": learner,
    }


# ---- progress -------------------------------------------------------------------------------------------------------
INSTRUCTOR_STEPS = ("prerequisites", "project", "scc")  # provisioned: always "tried", and the instructor's to fix


def progress(lab: Lab, only: list[str] | None = None, *, grace: float | None = None) -> Progress:
    """Every learner's steps (or only those named), read now from the cluster with the instructor's credentials,
    sorted naturally (learner2 before learner10). ``grace``: seconds a learner's cause may last before they count
    as stuck (data/workshop.yaml stuck_after_seconds)."""
    _require_admin(lab)
    grace = budget()["stuck_after_seconds"] if grace is None else grace
    names = tuple(step.name for step in steps.RECIPE)
    found = learners(lab)
    unknown = sorted(set(only or ()) - set(found))
    if unknown:
        raise UsageError(
            f"there is no learner {', '.join(unknown)} in this workshop: choose among "
            f"{', '.join(sorted(found, key=natural_key)) or '(none provisioned)'}."
        )
    found = {name: project for name, project in found.items() if not only or name in only}
    _package_charts(
        {(p["metadata"].get("annotations") or {}).get(CHART_VERSION, lab.chart_version) for p in found.values()},
        lab.chart_repo,
    )
    extra = extra_projects(lab.kube(), found)
    now = dt.datetime.now(dt.UTC)
    with ThreadPoolExecutor(WORKERS) as pool:
        rows = list(
            pool.map(
                lambda item: _row(
                    _learner_lab(lab, item[1]), item[0], item[1], now, grace, tuple(extra.get(item[0], ()))
                ),
                found.items(),
            )
        )
    rows.sort(key=lambda row: natural_key(row.learner))
    return Progress(names, tuple(rows), now.strftime("%H:%M:%S UTC"), lab.target.describe())


def _release(lab: Lab) -> dict | None:
    # Every status, spelled out: helm 3 lists only deployed and failed releases by default, helm 4 all of them.
    listed = lab.helm().run(
        [
            "list",
            "--namespace",
            lab.namespace,
            "--deployed",
            "--failed",
            "--pending",
            "--superseded",
            "--uninstalling",
            "-o",
            "json",
        ],
        timeout=60,
    )
    if not listed.ok:
        raise LabError(f"helm could not list the releases in {lab.namespace}: {listed.error}")
    return next((r for r in json.loads(listed.stdout or "[]") if r.get("name") == lab.settings.release), None)


def _release_values(lab: Lab) -> str:
    got = lab.helm().run(
        ["get", "values", lab.settings.release, "--namespace", lab.namespace, "-o", "yaml"], timeout=60
    )
    if not got.ok:
        raise LabError(f"helm could not read the values of release {lab.settings.release}: {got.error}")
    return "# the values of the learner's release, as helm stored them\n" + got.stdout


def _age(stamp: str | None, now) -> float | None:
    """Seconds since a time helm or a record wrote (helm: '2026-11-30 08:01:02.123 +0000 UTC')."""
    if not stamp:
        return None
    text = re.sub(r"(\.\d+)? \+0000 UTC$", "+00:00", stamp.strip()).replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        return (now - dt.datetime.fromisoformat(text)).total_seconds()
    except ValueError:
        return None


def _row(lab: Lab, learner: str, project: dict, now, grace: float, extra: tuple[str, ...] = ()) -> Row:
    kube = lab.kube()
    release = _release(lab)
    records = read_records(kube, lab.namespace)
    status = (release or {}).get("status", "")
    # The instructor's own copy of the values this project is judged by: the release's, else the workshop's plan.
    lab.values_file.parent.mkdir(parents=True, exist_ok=True)
    lab.values_file.write_text(_release_values(lab) if release else values_text(lab))
    cells, details = {}, {}

    def from_record(name: str, otherwise: str) -> None:
        """What the learner's last run of the step said, where the cluster cannot show it now: a pass only for a
        step living on the learner's machine (an install with no release is undone, whatever it once said)."""
        rec = records.get(name)
        if rec and (not rec.get("ok") or name in ("helm-repo", "values")):
            cells[name] = PASS if rec.get("ok") else FAIL
            details[name] = f"the learner's run: {rec.get('summary', '')}"
        else:
            cells[name], details[name] = UNREACHED, otherwise

    for step in steps.RECIPE:
        name = step.name
        if name == "helm-repo":
            if release:
                ok = release.get("chart") == f"clearml-{lab.chart_version}"
                cells[name] = PASS if ok else FAIL
                details[name] = f"release {release['name']} was installed from chart {release.get('chart')}"
            else:
                from_record(
                    name, "no release yet: the cluster sees the learner's chart repository only through an install"
                )
            continue
        if name == "values" and not release:
            from_record(name, "no release yet: the cluster sees the learner's values.yaml only through an install")
            continue
        if name == "install" and not release:
            from_record(name, "no release yet")
            continue
        if name in ("routes", "verify") and cells.get("install") != PASS:
            from_record(name, "waits for the install")
            continue
        if name == "scc" and not release:  # nothing installed yet: what counts is what the instructor provisioned
            planned = [g for g in ((project["metadata"].get("annotations") or {}).get(GRANTS) or "").split(",") if g]
            if planned:
                present = {f"{scc}:{sa}" for scc, sa in project_scc_grants(kube, lab.namespace)}
                missing = [g for g in planned if g not in present]
                cells[name] = FAIL if missing else PASS
                details[name] = (
                    f"{len(missing)} of the {len(planned)} grant(s) you provisioned are missing"
                    if missing
                    else f"the {len(planned)} grant(s) you provisioned are in place"
                )
                continue
        try:
            result = step.check(lab, timeout=0)
            ok, summary = result.ok, result.summary
        except LabError as err:
            ok, summary = False, str(err)
        if ok:
            cells[name], details[name] = PASS, summary
            continue
        tried = name in INSTRUCTOR_STEPS or name in records or name == "values"
        if name == "install":  # an install still coming up is not a failure until the grace period is over
            age = _age(release.get("updated"), now)
            tried = status == "failed" or name in records or (age is not None and age >= grace)
            summary = f"release {status or 'unknown'}: {summary}" if status else summary
        if name == "routes":
            tried = tried or bool(kube.list("routes", lab.namespace).get("items"))
        cells[name], details[name] = (FAIL if tried else UNREACHED), summary
    current = next((s for s in cells if cells[s] != PASS), None)
    causes = _causes(lab, learner, project, cells, records, release) if current else ()
    waiting = None
    if current:
        stamps = [(records.get(current) or {}).get("at")]
        if release:
            stamps.append(release.get("updated"))
        ages = [a for a in (_age(s, now) for s in stamps) if a is not None]
        waiting = min(ages) if ages else None
    return Row(learner, lab.namespace, cells, details, tuple(causes), waiting, grace, extra)


def _causes(lab: Lab, learner: str, project: dict, cells: dict, records: dict, release: dict | None) -> list[Cause]:
    """One Cause per reason the learner is held up, each with the fix for whoever can apply it."""
    kube, ns = lab.kube(), lab.namespace
    causes = []
    planned = [g for g in ((project["metadata"].get("annotations") or {}).get(GRANTS) or "").split(",") if g]
    present = {f"{scc}:{sa}" for scc, sa in project_scc_grants(kube, ns)}
    missing = [g.replace(":", " to ", 1) for g in planned if g not in present]
    if missing:
        causes.append(
            Cause(
                f"{len(missing)} SCC grant(s) you provisioned are missing: {', '.join(missing)}.",
                f"`clearml-lab workshop provision --names {learner}` restores them.",
                "instructor",
                "scc",
            )
        )
    for name, cell in cells.items():
        rec = records.get(name)
        if cell == FAIL and rec and not rec.get("ok"):
            causes.append(
                Cause(
                    f"{name} failed: {rec.get('summary', '')}",
                    rec.get("fix") or f"run `clearml-lab run {name}` again and read its message.",
                    "learner",
                )
            )
    if release and release.get("status") == "failed" and not records.get("install"):
        causes.append(
            Cause(
                f"release {release['name']} is failed.",
                "`clearml-lab undo install`, then run install again.",
                "learner",
            )
        )
    if release:
        for d in _current_diagnoses(lab):
            if d.rule == "scc-rejected" and missing:
                continue  # the missing grants above say it, with the instructor's fix
            who = "instructor" if d.step in INSTRUCTOR_STEPS and d.rule.startswith("scc") else "learner"
            causes.append(Cause(f"{d.subject}: {d.cause}", d.fix, who))
    return causes


OBJECT_KINDS = {
    "Pod": "pods",
    "ReplicaSet": "replicasets",
    "StatefulSet": "statefulsets",
    "Deployment": "deployments",
    "PersistentVolumeClaim": "persistentvolumeclaims",
}


def _current_diagnoses(lab: Lab) -> tuple:
    """What blocks the learner now. Events outlive their objects, so a diagnosis about an object that is gone, or
    about a pod that is ready by now, is history; so is one about a pod waiting for its claims once every claim
    of the project is Bound (the scheduler has not caught up yet)."""
    kube = lab.kube()
    found = diagnose.gather(kube, lab.namespace)
    kinds = ({d.subject.partition("/")[0] for d in found} & set(OBJECT_KINDS)) | {"PersistentVolumeClaim"}
    live = {
        kind: {o["metadata"]["name"]: o for o in kube.list(OBJECT_KINDS[kind], lab.namespace).get("items", [])}
        for kind in kinds
    }
    claims_bound = all((c.get("status") or {}).get("phase") == "Bound" for c in live["PersistentVolumeClaim"].values())

    def ready(pod: dict) -> bool:
        return any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )

    def current(d) -> bool:
        kind, _, name = d.subject.partition("/")
        if d.rule == "unbound-pvc" and claims_bound:
            return False
        if kind not in live:
            return True
        return name in live[kind] and not (kind == "Pod" and ready(live[kind][name]))

    return tuple(d for d in found if current(d))


# ---- reset ---------------------------------------------------------------------------------------------------------
def reset(lab: Lab, learner: str, to: str = "prerequisites") -> ResetResult:
    """Back to the start of step ``to``: undo it and every later step in the learner's project, in reverse, and
    restore what the instructor provisioned (project, admin binding, grants, quota)."""
    names = [s.name for s in steps.RECIPE]
    if to not in names:
        raise UsageError(f"there is no step {to!r} to reset to: choose one of {', '.join(names)}.")
    _require_admin(lab)
    project = learners(lab).get(learner)
    if project is None:
        raise UsageError(
            f"there is no learner {learner!r} in this workshop: choose one of "
            f"{', '.join(learners(lab)) or '(none provisioned)'}."
        )
    seat_lab, lines = _learner_lab(lab, project), []
    # progress shows the steps undone as not reached again
    forget_records(seat_lab.kube(), seat_lab.namespace, names[names.index(to) :])
    for name in reversed(names[names.index(to) :]):
        if name in ("routes", "install"):
            undone = (Routes() if name == "routes" else Install()).undo(seat_lab)
            lines += [f"{name}: {undone.summary}", *(line for line in undone.output if line)]
        if name == "install":
            kube = seat_lab.kube()
            for pvc in kube.list("persistentvolumeclaims", seat_lab.namespace).get("items", []):
                kube.delete("persistentvolumeclaims", pvc["metadata"]["name"], seat_lab.namespace)
                lines.append(f'persistentvolumeclaim "{pvc["metadata"]["name"]}" deleted')
        elif name in ("project", "scc"):
            lines.append(f"{name}: kept — the instructor provisioned it")
        elif name in ("helm-repo", "values"):
            lines.append(
                f"{name}: lives on the learner's machine; nothing on the cluster to undo "
                f"(the learner may run `clearml-lab undo {name}`)"
            )
    setup = ensure_learner(seat_lab, learner, None)  # the instructor's part comes back if anything of it was lost
    lines += [f"restored: {change}" for change in setup.changes]
    return ResetResult(learner, to, tuple(lines))


# ---- teardown ------------------------------------------------------------------------------------------------------
def teardown_plan(lab: Lab, found: dict[str, dict] | None = None) -> list[tuple[str, str]]:
    """(learner, project) for every project teardown would delete: each learner's workshop project and the ones
    they made outside it. What a confirmation names before anything is deleted."""
    found = learners(lab) if found is None else found
    doomed = [(name, project["metadata"]["name"]) for name, project in found.items()]
    doomed += [(name, ns) for name, names in extra_projects(lab.kube(), found).items() for ns in names]
    return doomed


def teardown(lab: Lab, out_dir: Path | None = None, timeout: float = 300) -> TeardownResult:
    """Remove every learner's project (returning when they are gone, with the volumes claimed from them), their
    credentials and anything cluster-scoped the workshop made; then prove nothing is left.

    Deleting a project deletes everything in it — the release, its claims, routes and the namespaced SCC grants —
    so the projects go first, all at once, and the wait is on the namespaces themselves (the instructor may read
    them), then on the volumes their claims held."""
    _require_admin(lab)
    kube = lab.kube()
    found = learners(lab)
    doomed = teardown_plan(lab, found)
    projects = {ns for _, ns in doomed}
    removed = [f"acting on {lab.target.describe()}: {len(found)} learner(s), {len(projects)} project(s)"]
    for name, ns in doomed:
        try:
            if kube.delete("projects", ns) is not None:
                removed.append(
                    f'{name}: project.project.openshift.io "{ns}" deleted'
                    + ("" if ns == project_for(name) else " (a project the learner made)")
                )
        except ApiFailure as err:
            if err.code not in (404, 409):  # 409: already Terminating (an earlier teardown was interrupted)
                raise
    if not wait_for(
        kube, "namespaces", lambda items: not projects & {n["metadata"]["name"] for n in items}, timeout=timeout
    ):
        raise LabError(
            f"the learners' projects are still Terminating after {int(timeout)} s: run teardown again; "
            f"if it persists, look at their finalizers (oc get ns -o yaml)."
        )
    wait_for(
        kube,
        "persistentvolumes",
        lambda items: not any((v.get("spec", {}).get("claimRef") or {}).get("namespace") in projects for v in items),
        timeout=timeout,
    )
    users = set(found)
    if lab.is_practice:
        for token in _tokens(kube):
            users.add(token["userName"])
            kube.request("DELETE", f"{TOKENS}/{token['metadata']['name']}")
            removed.append(f"token of user {token['userName']} deleted")
    removed += release_containment(kube)
    out = Path(out_dir) if out_dir else lab_home() / "workshop"
    for user in sorted(users):
        for path in (out / f"{user}.kubeconfig", out / HANDOUT.format(learner=user)):
            if path.exists():
                path.unlink()
                removed.append(f"{path} removed")
    return TeardownResult(tuple(removed), tuple(leftovers(lab, users, projects)))


def _tokens(kube) -> list[dict]:
    try:
        items = kube.request("GET", TOKENS, query={"labelSelector": LEARNER}).get("items", [])
        return sorted(items, key=lambda t: t.get("userName", ""))
    except ApiFailure as err:
        if err.code == 404:  # a cluster without the OAuth API: no tokens were made
            return []
        raise


def leftovers(lab: Lab, users: set[str] | None = None, removed_projects: set[str] | None = None) -> list[str]:
    """Everything of the workshop still on the cluster: learners' projects and the ones they made, their tokens,
    cluster-scoped bindings naming a learner or a learner project's service accounts, volumes claimed from those
    projects, and self-provisioning still paused."""
    kube, found = lab.kube(), []
    projects = learners(lab)
    users = set(users or ()) | set(projects)
    found += [f"project/{p['metadata']['name']} (learner {name})" for name, p in projects.items()]
    for name, names in extra_projects(kube, projects).items():
        found += [f"project/{ns} (made by learner {name})" for ns in names]
    present = {n["metadata"]["name"] for n in kube.list("namespaces").get("items", [])}
    found += [
        f"project/{ns} (made by a learner)"
        for ns in sorted((removed_projects or set()) & present - {project_for(u) for u in projects})
    ]
    paused = (kube.get_or_none("clusterrolebindings", SELF_PROVISIONERS) or {}).get("metadata", {})
    if PAUSED in (paused.get("annotations") or {}):
        found.append(f"clusterrolebinding/{SELF_PROVISIONERS}: self-provisioning still paused by the workshop")
    for name in sorted(users):
        found += [
            item
            for item in project_leftovers(lab.with_settings(namespace=project_for(name)))
            if not item.startswith("project/")
        ]
    found += [f"oauthaccesstoken of {t.get('userName')}" for t in _tokens(kube)]
    for binding in kube.list("clusterrolebindings").get("items", []):
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "User" and subject.get("name") in users:
                found.append(f"clusterrolebinding/{binding['metadata']['name']} names user {subject['name']}")
    return found
