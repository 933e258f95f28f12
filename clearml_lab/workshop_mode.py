"""Workshop mode, as a learner's lab sees it.

A project that ``clearml-lab workshop provision`` prepared carries the learner's name and the chart version and
profile its SCC grants were computed for (annotations below). A lab acting in such a project is in workshop mode:
the steps the instructor already did (project, scc) check what is there and say so instead of acting, undo and
cleanup keep what the instructor provisioned, and unchosen settings follow the workshop's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

from .errors import LabError
from .kube import ApiFailure
from .oc import visible_project, whoami

LEARNER = "clearml-lab.io/workshop-learner"  # annotation on the project, label on the learner's token
CHART_VERSION = "clearml-lab.io/workshop-chart-version"
CHART_REPO = "clearml-lab.io/workshop-chart-repo"  # the Helm repository the workshop's chart version came from
PROFILE = "clearml-lab.io/workshop-profile"
GRANTS = "clearml-lab.io/workshop-grants"  # on the project: the grants provisioned, "scc:serviceaccount,..."
QUOTA = "clearml-workshop"  # the ResourceQuota and LimitRange provisioning sets (data/workshop.yaml)
RECORDS = "clearml-lab-steps"  # ConfigMap in the learner's project: the outcome of each step they ran, for progress


@dataclass(frozen=True)
class Seat:
    """One learner's place in a workshop: their project, and what it was prepared for."""

    learner: str
    project: str
    chart_version: str | None
    profile: str | None
    chart_repo: str | None = None

    def banner(self) -> str:
        prepared = ", ".join(
            f"{what} {value}" for what, value in (("chart", self.chart_version), ("profile", self.profile)) if value
        )
        return (
            f"Workshop mode: you are learner {self.learner}; your instructor prepared project {self.project}"
            f"{f' for {prepared}' if prepared else ''} and made its SCC grants. The project and scc steps "
            f"check what is there and skip the rest."
        )

    def skipped(self, what: str) -> str:
        return f"skipped: your instructor already {what} (workshop mode)."

    def kept(self, what: str) -> str:
        return (
            f"kept {what}: your instructor provisioned it for the workshop (workshop mode); to start over, ask "
            f"for `clearml-lab workshop reset {self.learner}`."
        )


def seat_of(project: dict | None) -> Seat | None:
    """The seat a project stands for, or None when it is not a workshop project."""
    notes = ((project or {}).get("metadata") or {}).get("annotations") or {}
    if not notes.get(LEARNER):
        return None
    return Seat(
        notes[LEARNER], project["metadata"]["name"], notes.get(CHART_VERSION), notes.get(PROFILE), notes.get(CHART_REPO)
    )


def detect(lab) -> Seat | None:
    """Whether the lab's project is a workshop project (one GET; a project the user cannot see is not)."""
    return seat_of(visible_project(lab.kube(), lab.namespace))


def seat_or_none(lab) -> Seat | None:
    """lab.workshop, where an unreachable cluster counts as no workshop: the first step reports it in its words."""
    try:
        return lab.workshop
    except (LabError, ApiFailure):
        return None


def own_project(lab) -> str | None:
    """The one workshop project provisioned for the logged-in user, if there is exactly one: a learner whose login
    names no project (say, a fresh `oc login` context) still lands in theirs."""
    me = whoami(lab.kube()).username
    mine = [
        p["metadata"]["name"]
        for p in lab.kube().list("projects").get("items", [])
        if (p["metadata"].get("annotations") or {}).get(LEARNER) == me
    ]
    return mine[0] if len(mine) == 1 else None


def follow(lab, *, namespace_chosen: bool, chart_version_chosen: bool, profile_chosen: bool):
    """The lab in the learner's workshop project when no project was chosen (neither by option nor by the
    kubeconfig context), with the workshop's chart version and profile where the user chose none, so the learner
    installs what the instructor's grants were computed for. Outside a workshop, the lab unchanged."""
    seat = seat_or_none(lab)
    if seat is None and not namespace_chosen and not lab.target.context_namespace:
        try:
            project = own_project(lab)
        except (LabError, ApiFailure):
            project = None
        if project:
            lab = lab.with_settings(namespace=project)
            seat = seat_or_none(lab)
    if seat is None:
        return lab
    changes = {}
    if seat.chart_version and not chart_version_chosen:
        changes["chart_version"] = seat.chart_version
    if seat.profile and not profile_chosen:
        changes["profile"] = seat.profile
    if seat.chart_repo and not lab.settings.chart_repo and not os.environ.get("CLEARML_LAB_CHART_REPO"):
        changes["chart_repo"] = seat.chart_repo  # the repository the workshop's version and grants came from
    return lab.with_settings(**changes) if changes else lab


def budget_storage(kube, namespace: str) -> str | None:
    """The storage the workshop's quota allows in the project (e.g. "155Gi"), or None without one."""
    try:
        quota = kube.get("resourcequotas", QUOTA, namespace)
    except ApiFailure as err:
        if err.code in (403, 404):
            return None
        raise
    return (quota.get("spec", {}).get("hard") or {}).get("requests.storage")


# ---- step records: what the learner's runs leave for the instructor's progress view ----------------------------------
def record_step(lab, result) -> None:
    """In a workshop project, keep the outcome of a step the learner ran (ok, one sentence, the fix, when) in the
    ConfigMap clearml-lab-steps, so the instructor's progress tells "tried and failed" from "not reached" even for
    what never reaches the cluster (helm's repository list, a refused install). Never fails the learner's step."""
    try:
        seat = seat_or_none(lab)
    except Exception:  # a record is a courtesy: nothing about it may fail the learner's step
        return
    if seat is None:
        return
    if result.step == "cleanup":  # the learner starts over: what they tried before is history
        if result.ok:
            try:
                lab.kube().delete("configmaps", RECORDS, lab.namespace)
            except (ApiFailure, LabError):
                pass
        return
    entry = json.dumps(
        {
            "ok": bool(result.ok),
            "summary": result.summary,
            "fix": result.fix or "",
            "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    kube = lab.kube()
    try:
        try:
            kube.patch("configmaps", RECORDS, {"data": {result.step: entry}}, lab.namespace)
        except ApiFailure as err:
            if err.code != 404:
                raise
            kube.create(
                "configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": RECORDS,
                        "namespace": lab.namespace,
                        "labels": {"app.kubernetes.io/managed-by": "clearml-lab"},
                    },
                    "data": {result.step: entry},
                },
                lab.namespace,
            )
    except (ApiFailure, LabError):
        pass  # a record is a courtesy to the instructor; the learner's step stands on its own


def read_records(kube, namespace: str) -> dict[str, dict]:
    """step -> {"ok", "summary", "fix", "at"} as the learner's runs recorded them (empty when none)."""
    try:
        data = kube.get("configmaps", RECORDS, namespace).get("data") or {}
    except ApiFailure as err:
        if err.code in (403, 404):
            return {}
        raise
    records = {}
    for step, text in data.items():
        try:
            records[step] = json.loads(text)
        except ValueError:
            continue
    return records


def forget_records(kube, namespace: str, steps) -> None:
    """A reset takes the learner back before ``steps``: their records go too."""
    records = read_records(kube, namespace)
    gone = [s for s in steps if s in records]
    if gone:
        kube.patch("configmaps", RECORDS, {"data": {s: None for s in gone}}, namespace)
