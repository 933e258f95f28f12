"""Step 2: tell helm where the ClearML chart lives."""

from __future__ import annotations

import json

from ..chart import repo_add_args
from ..errors import LabError
from .base import Check, Step, StepResult

REPO_NAME = "clearml"
PUBLIC_URL = "https://clearml.github.io/clearml-helm-charts"  # the seed's allegroai.github.io URL is the old name


def repo_url(lab) -> str:
    """The repository the lab reads the chart from (see Lab.chart_repo): chosen with --chart-repo, else the practice
    cluster's own on it, else the public one. helm installs from exactly this URL."""
    return lab.chart_repo


def configured_url(helm) -> str | None:
    result = helm.run(["repo", "list", "-o", "json"], cluster=False, timeout=30)
    if not result.ok:  # helm says "no repositories to show" with a non-zero exit
        return None
    return {r["name"]: r["url"] for r in json.loads(result.stdout or "[]")}.get(REPO_NAME)


class HelmRepo(Step):
    name = "helm-repo"
    title = "Add the ClearML chart repository"
    explanation = (
        "helm installs charts from repositories. This adds ClearML's repository under the name `clearml` and "
        "downloads its index, so `clearml/clearml` resolves to the chart. The URL is the one the lab reads the chart "
        "from (`--chart-repo URL` or $CLEARML_LAB_CHART_REPO for a mirror; on the practice cluster, by default, the "
        "practice repository, which serves a stand-in chart). With no --chart-version this step also chooses the "
        "newest version the repository serves that fits the cluster, and keeps it for the later steps."
    )

    def commands(self, lab) -> list[str]:
        shown = " ".join(a for a in repo_add_args(REPO_NAME, repo_url(lab))[0] if a != "--force-update")
        return [
            f"helm {shown}   # the chart repository the lab reads",
            "helm repo update",
            f"helm search repo {REPO_NAME}/clearml --versions   # clearml-lab charts",
        ]

    def run(self, lab, on_line=None) -> StepResult:
        helm, url = lab.helm(), repo_url(lab)
        output, changed = [], False
        if configured_url(helm) != url:
            args, password = repo_add_args(REPO_NAME, url)
            added = helm.run(
                args, cluster=False, on_line=on_line, stdin=password + "\n" if password is not None else None
            )
            if not added.ok:
                return StepResult(
                    self.name,
                    "run",
                    False,
                    f"helm could not add the repository: {added.error}",
                    fix="check the URL and your network",
                    target=lab.describe(),
                )
            output.append(added.stdout.strip())
            changed = True
        updated = helm.run(["repo", "update", REPO_NAME], cluster=False, on_line=on_line)
        if not updated.ok:
            return StepResult(
                self.name,
                "run",
                False,
                f"helm could not download the index: {updated.error}",
                fix="check that the repository is reachable",
                target=lab.describe(),
            )
        output += [line for line in updated.stdout.splitlines() if line.strip()]
        chosen = bool(lab.settings.chart_version)
        try:
            version = lab.pin_chart_version()
        except LabError as err:
            return StepResult(
                self.name,
                "run",
                False,
                str(err),
                changed=changed,
                output=tuple(output),
                fix="choose a chart version the repository serves (clearml-lab charts)",
                target=lab.describe(),
            )
        summary = (
            f"repository {REPO_NAME} → {url}"
            + ("" if changed else " (already configured; index refreshed)")
            + f"; chart version {version}"
            + (" (chosen)" if chosen else " (the newest that fits the cluster, kept for the later steps)")
        )
        return StepResult(self.name, "run", True, summary, changed=changed, output=tuple(output), target=lab.describe())

    def check(self, lab, timeout: float = 60) -> StepResult:
        helm, version = lab.helm(), lab.chart_version
        found = helm.run(
            ["search", "repo", f"{REPO_NAME}/clearml", "--version", version, "-o", "json"],
            cluster=False,
            timeout=timeout,
        )
        hits = json.loads(found.stdout or "[]") if found.ok else []
        ok = any(h.get("version") == version for h in hits)
        check = Check(
            f"clearml/clearml {version}",
            ok,
            "found in the repository index" if ok else "not found",
            None if ok else "run this step (helm repo add + update), or choose a version the repo has",
        )
        summary = (
            f"helm finds chart clearml/clearml {version}."
            if ok
            else f"helm does not find chart clearml/clearml {version}."
        )
        return StepResult(self.name, "check", ok, summary, (check,), target=lab.describe())

    def undo(self, lab, on_line=None) -> StepResult:
        helm = lab.helm()
        if configured_url(helm) is None:
            return StepResult(
                self.name,
                "undo",
                True,
                "repository clearml was not configured; nothing to undo.",
                target=lab.describe(),
                neutral=True,
            )
        removed = helm.run(["repo", "remove", REPO_NAME], cluster=False, on_line=on_line)
        if removed.ok:
            lab.forget_chart_version()
        return StepResult(
            self.name,
            "undo",
            removed.ok,
            "repository clearml removed." if removed.ok else f"helm failed: {removed.error}",
            changed=removed.ok,
            output=(removed.stdout.strip(),),
            target=lab.describe(),
        )
