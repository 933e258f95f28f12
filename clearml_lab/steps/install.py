"""Step 6: helm install, then watch until everything is ready or a blocking cause is diagnosed."""

from __future__ import annotations

import json
import time

from .. import diagnose, progress
from ..errors import LabError
from .base import Check, Step, StepResult, fix_by, missing_project
from .helm_repo import REPO_NAME, configured_url

# Diagnoses that will not fix themselves by waiting; once one persists past the grace period the install stops
# waiting and says what to do. (A crash loop can be a slow start; an SCC rejection never is.)
BLOCKING = {
    "scc-rejected",
    "clearml-root-crash",
    "image-removed-bitnami",
    "image-pull",
    "pvc-no-default-class",
    "pvc-no-room",
    "es-max-map-count",
    "crash-loop",
    "pod-on-old-revision",
}
# ... and those that are final the moment they are seen: no retry by a controller changes them.
IMMEDIATE = {"scc-rejected", "image-removed-bitnami", "pvc-no-default-class"}


def workload_readiness(kube, namespace: str, release: str, versions: dict | None = None) -> list[tuple[str, int, int]]:
    """(KIND/NAME, ready, desired) for the release's Deployments and StatefulSets: two list calls. The lists'
    resourceVersions go into ``versions`` so a watch can start exactly where the lists ended."""
    rows = []
    for resource, kind in (("deployments", "Deployment"), ("statefulsets", "StatefulSet")):
        listing = kube.list(resource, namespace)
        if versions is not None:
            versions[resource] = listing["metadata"]["resourceVersion"]
        for item in listing.get("items", []):
            meta = item["metadata"]
            if (meta.get("annotations") or {}).get("meta.helm.sh/release-name", release) != release:
                continue
            desired = item.get("spec", {}).get("replicas", 1)
            ready = item.get("status", {}).get("readyReplicas", 0) or 0
            rows.append((f"{kind}/{meta['name']}", ready, desired))
    return sorted(rows)


def all_ready(rows) -> bool:
    return bool(rows) and all(ready >= desired for _, ready, desired in rows)


def report_waiting(rows, pods: str) -> None:
    """One live line for whoever watches: what is ready and what is still awaited."""
    waiting = [f"{name} {ready}/{desired}" for name, ready, desired in rows if ready < desired]
    if not rows:
        progress.report("no workloads yet; waiting for helm's objects")
    elif waiting:
        progress.report(f"{pods}; waiting for " + ", ".join(waiting))
    else:
        progress.report(f"{pods}; all workloads ready")


def release_status(helm, namespace: str, release: str) -> str | None:
    result = helm.run(["status", release, "--namespace", namespace, "-o", "json"], timeout=60)
    if not result.ok:
        return None
    return json.loads(result.stdout).get("info", {}).get("status")


class Install(Step):
    name = "install"
    title = "Install ClearML with helm"
    explanation = (
        "helm renders the chart with your values.yaml and creates every object in the project. Then the "
        "cluster takes over: controllers create pods, SCC admission accepts or refuses them, volumes are "
        "bound, images pulled, containers started. The lab watches until every workload is ready, or stops "
        "early with the cause when something is blocked that waiting will not fix."
    )

    def __init__(self, timeout: float = 900, grace: float = 20):
        self.timeout, self.grace = timeout, grace

    def _helm_args(self, lab) -> list[str]:
        s = lab.settings
        return [
            "upgrade",
            "--install",
            s.release,
            f"{REPO_NAME}/clearml",
            "--version",
            lab.chart_version,
            "--namespace",
            lab.namespace,
            "-f",
            str(lab.values_file),
        ]

    def commands(self, lab) -> list[str]:
        s = lab.settings
        return [
            f"helm install -f values.yaml {s.release} {REPO_NAME}/clearml --version {lab.chart_version} "
            f"--namespace {lab.namespace}"
        ]

    def run(self, lab, on_line=None) -> StepResult:
        # What install needs, in the recipe's order, each named with the step that provides it.
        missing = missing_project(lab, self.name, "run")
        if missing:
            return missing
        helm = lab.helm()
        if configured_url(helm) is None:
            return StepResult(
                self.name,
                "run",
                False,
                f"helm does not know the chart repository {REPO_NAME} yet.",
                fix=fix_by("helm-repo"),
                target=lab.describe(),
            )
        if not lab.values_file.exists():
            return StepResult(
                self.name,
                "run",
                False,
                f"there is no values.yaml yet ({lab.values_file}).",
                fix=fix_by("values"),
                target=lab.describe(),
            )
        status = release_status(helm, lab.namespace, lab.settings.release)
        if status and status.startswith("pending"):
            return StepResult(
                self.name,
                "run",
                False,
                f"release {lab.settings.release} is stuck in {status}.",
                fix="undo install, then run it again",
                target=lab.describe(),
            )
        if status == "deployed" and self.check(lab, timeout=0).ok:
            return StepResult(
                self.name,
                "run",
                True,
                f"release {lab.settings.release} is already installed and ready; nothing changed.",
                target=lab.describe(),
            )
        result = helm.run(self._helm_args(lab), on_line=on_line, timeout=300)
        output = tuple(line for line in (result.stdout + result.stderr).splitlines() if line.strip())
        if not result.ok:
            found = diagnose.explain(lab.namespace, helm_output=result.stderr)
            fix = found[0].fix if found else None
            summary = found[0].cause if found else f"helm failed: {self._helm_error(result.error, lab)}"
            if not found and "repo " in result.error and "not found" in result.error:
                fix = fix_by("helm-repo")
            return StepResult(self.name, "run", False, summary, output=output, fix=fix, target=lab.describe())
        waited = self.wait(lab, timeout=self.timeout, on_line=on_line, fresh=True)
        return StepResult(
            self.name,
            "run",
            waited.ok,
            waited.summary,
            waited.checks,
            changed=True,
            output=output,
            fix=waited.fix,
            target=lab.describe(),
        )

    @staticmethod
    def _helm_error(error: str, lab) -> str:
        if "cannot be imported into the current release" in error or "invalid ownership metadata" in error:
            return (
                f"objects of another helm release already exist in project {lab.namespace}; uninstall that "
                f"release or use another project (--namespace)."
            )
        return error

    def wait(self, lab, timeout: float, on_line=None, *, fresh: bool = False) -> StepResult:
        """Watch until all workloads are ready, a blocking cause persists, or the timeout passes.

        ``fresh``: the objects were just created, so a cause that no retry fixes ends the wait at once; a check
        of an older install gives every cause the grace period (its events may predate a fix being applied)."""
        kube, ns, release = lab.kube(), lab.namespace, lab.settings.release
        deadline = time.monotonic() + timeout
        first_seen: dict[str, float] = {}
        last_progress = None
        while True:
            versions: dict = {}
            rows = workload_readiness(kube, ns, release, versions)
            progress = f"{sum(r for _, r, _ in rows)}/{sum(d for _, _, d in rows)} pods ready"
            if on_line and progress != last_progress:
                on_line(progress)
                last_progress = progress
            report_waiting(rows, progress)
            checks = tuple(Check(name, ready >= desired, f"{ready}/{desired} ready") for name, ready, desired in rows)
            if all_ready(rows):
                return StepResult(
                    self.name, "check", True, f"ClearML is ready: {progress}.", checks, target=lab.describe()
                )
            now = time.monotonic()
            blocking = [d for d in diagnose.gather(kube, ns) if d.rule in BLOCKING]
            for d in blocking:
                first_seen.setdefault(d.rule + d.subject, now)
            persistent = [
                d
                for d in blocking
                if (fresh and d.rule in IMMEDIATE) or now - first_seen[d.rule + d.subject] >= self.grace
            ]
            if persistent or now >= deadline:
                reasons = tuple(Check(d.subject, False, d.cause, d.fix) for d in (persistent or blocking))
                summary = (
                    f"not ready ({progress}): {persistent[0].cause}"
                    if persistent
                    else f"not ready after {int(timeout)} s ({progress})."
                )
                return StepResult(
                    self.name,
                    "check",
                    False,
                    summary,
                    checks + reasons,
                    fix=(persistent or blocking)[0].fix if (persistent or blocking) else "see `clearml-lab diagnose`",
                    target=lab.describe(),
                )
            # Wait for the next status change of a workload that is not ready (or the grace period): never a fixed
            # sleep. Workload status follows pod readiness, so this wakes exactly when progress is made.
            waiting_on = (
                "deployments" if any(n.startswith("Deployment/") and r < d for n, r, d in rows) else "statefulsets"
            )
            wake = min(deadline, now + self.grace) - now
            for _ in kube.watch(
                waiting_on, ns, timeout_seconds=max(1, int(wake)), resource_version=versions[waiting_on]
            ):
                break

    def check(self, lab, timeout: float = 60) -> StepResult:
        missing = missing_project(lab, self.name, "check")
        if missing:
            return missing
        if timeout <= 0:
            rows = workload_readiness(lab.kube(), lab.namespace, lab.settings.release)
            ok = all_ready(rows)
            return StepResult(self.name, "check", ok, "ready." if ok else "not ready.", target=lab.describe())
        return self.wait(lab, timeout=timeout)

    def undo(self, lab, on_line=None) -> StepResult:
        helm, s = lab.helm(), lab.settings
        if release_status(helm, lab.namespace, s.release) is None:
            return StepResult(
                self.name,
                "undo",
                True,
                f"release {s.release} is not installed; nothing to undo.",
                target=lab.describe(),
                neutral=True,
            )
        progress.report(f"helm uninstall {s.release}: waiting until its objects are gone")
        result = helm.run(["uninstall", s.release, "--namespace", lab.namespace, "--wait"], on_line=on_line)
        if not result.ok:
            raise LabError(f"helm uninstall failed: {result.error}")
        # What helm printed was streamed to on_line already; the result keeps it only when nobody listened.
        return StepResult(
            self.name,
            "undo",
            True,
            f"release {s.release} uninstalled (its PVCs are kept by helm; cleanup removes them).",
            changed=True,
            output=() if on_line else (result.stdout.strip(),),
            target=lab.describe(),
        )
