"""Every workload of a project, judged: the known problems diagnose.gather found, and for each workload they do not
name, what its pods tell — ready, still starting, or admitted but bound to fail because its image needs a UID its
security context does not give (the ClearML images must run as root; under restricted-v2 they get the project's
UID range and crash on start). So a diagnosis never leaves a workload out."""

from __future__ import annotations

from dataclasses import dataclass

from .scc.images import load_image_requirements, requirement_for
from .steps.base import fix_by


@dataclass(frozen=True)
class Verdict:
    subject: str  # kind/name, as `clearml-lab status` prints it
    ok: bool | None  # True ready, False failing or bound to fail, None starting
    text: str

    def render(self) -> str:
        return f"{self.subject}: {self.text}"


def _uid(pod: dict, container: dict) -> int | None:
    for context in (container.get("securityContext") or {}, (pod.get("spec") or {}).get("securityContext") or {}):
        if context.get("runAsUser") is not None:
            return int(context["runAsUser"])
    return None


def _bound_to_fail(pod: dict, requirements) -> str | None:
    scc = (pod["metadata"].get("annotations") or {}).get("openshift.io/scc", "an SCC")
    for container in (pod.get("spec") or {}).get("containers", []):
        need = requirement_for(container.get("image", ""), requirements)
        if need is None or need.needs_uid is None:
            continue
        uid = _uid(pod, container)
        runs_as = uid if uid is not None else need.image_user
        if runs_as != need.needs_uid:
            return (
                f"admitted under {scc}, which runs container {container['name']} as UID {runs_as}, but its image "
                f"must run as UID {need.needs_uid} ({need.why.rstrip('.')}), so it will fail; "
                f"fix: {fix_by('scc')}."
            )
    return None


def workloads(kube, namespace: str, found=()) -> list[Verdict]:
    """One verdict per Deployment and StatefulSet that no diagnosis in ``found`` names, sorted by subject."""
    requirements = load_image_requirements()
    pods = kube.list("pods", namespace).get("items", [])
    verdicts = []
    for resource, kind in (("deployments", "deployment"), ("statefulsets", "statefulset")):
        for item in kube.list(resource, namespace).get("items", []):
            name = item["metadata"]["name"]
            if any(name in d.subject for d in found):
                continue
            mine = [p for p in pods if p["metadata"]["name"].startswith(f"{name}-")]
            desired = (item.get("spec") or {}).get("replicas", 1)
            ready = (item.get("status") or {}).get("readyReplicas", 0) or 0
            doomed = next((why for why in (_bound_to_fail(p, requirements) for p in mine) if why), None)
            if doomed:
                verdicts.append(Verdict(f"{kind}/{name}", False, doomed))
            elif ready >= desired:
                verdicts.append(Verdict(f"{kind}/{name}", True, f"ready ({ready}/{desired})."))
            elif not mine:
                verdicts.append(Verdict(f"{kind}/{name}", None, f"no pod yet (0/{desired}); nothing known is wrong."))
            else:
                verdicts.append(
                    Verdict(f"{kind}/{name}", None, f"starting ({ready}/{desired} ready); nothing known is wrong.")
                )
    return sorted(verdicts, key=lambda v: v.subject)
