"""Job → pods until ``completions`` succeed (or ``backoffLimit`` failures), with the Job's conditions."""

from __future__ import annotations

import copy

from ..client import ControllerContext
from .base import (
    Abort,
    Cache,
    Create,
    Delete,
    Event,
    UpdateStatus,
    Wake,
    controller_identity,
    is_terminating,
    key_of,
    owned_by,
    pod_active,
    pod_ready,
    rfc3339,
    set_condition,
)
from .owned import pod_owner_loop
from .replicaset import pod_from_template
from .timing import Backoff

JOB = "jobs.batch"
COMPONENT = "job-controller"
IDENTITY = controller_identity("job-controller")


def job_pod(job: dict) -> dict:
    pod = pod_from_template(job, job["spec"]["template"], generate_name=f"{job['metadata']['name']}-")
    uid, name = job["metadata"].get("uid", ""), job["metadata"]["name"]
    pod["metadata"].setdefault("labels", {}).update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "job-name": name,
        }
    )
    return pod


def _finished(job: dict) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )


def reconcile_job(job: dict, pods: list[dict], now: float, scale: float = 1.0, backoff: Backoff | None = None) -> list:
    backoff = backoff if backoff is not None else Backoff()
    uid = job["metadata"].get("uid", "")
    owned = [p for p in pods if owned_by(p, job)]
    active = [p for p in owned if pod_active(p)]
    succeeded = sum(1 for p in owned if (p.get("status") or {}).get("phase") == "Succeeded")
    failed = sum(1 for p in owned if (p.get("status") or {}).get("phase") == "Failed")
    spec = job["spec"]
    parallelism = int(spec.get("parallelism", 1))
    completions = spec.get("completions")
    completions = int(completions) if completions is not None else 1
    backoff_limit = int(spec.get("backoffLimit", 6))
    old = job.get("status") or {}
    status = copy.deepcopy(old)
    conditions = status.get("conditions") or []
    actions: list = []

    if not _finished(job) and not is_terminating(job) and not spec.get("suspend"):
        status.setdefault("startTime", rfc3339(now))
        if succeeded >= completions:
            conditions = set_condition(
                conditions,
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
                probe_time=True,
            )
            conditions = set_condition(
                conditions,
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
                probe_time=True,
            )
            status["completionTime"] = rfc3339(now)
            actions.append(Event(job, "Completed", "Job completed", COMPONENT))
        elif failed > backoff_limit:
            message = "Job has reached the specified backoff limit"
            conditions = set_condition(
                conditions, "FailureTarget", "True", "BackoffLimitExceeded", message, now, probe_time=True
            )
            conditions = set_condition(
                conditions, "Failed", "True", "BackoffLimitExceeded", message, now, probe_time=True
            )
            for p in active:
                actions.append(Delete("pods", p["metadata"]["name"], p["metadata"]["namespace"]))
            actions.append(Event(job, "BackoffLimitExceeded", message, COMPONENT, type="Warning"))
        elif (retry := backoff.due(uid, now)) is not None:
            actions.append(Wake(key_of(JOB, job), retry))
        else:
            want = min(parallelism, completions - succeeded) - len(active)
            for _ in range(max(0, want)):
                actions.append(
                    Create(
                        "pods",
                        job_pod(job),
                        on_success=lambda p: [
                            Event(job, "SuccessfulCreate", f"Created pod: {p['metadata']['name']}", COMPONENT)
                        ],
                        on_error=lambda err: [
                            Event(
                                job,
                                "FailedCreate",
                                f"Error creating: {err.status.get('message')}",
                                COMPONENT,
                                type="Warning",
                            ),
                            Wake(key_of(JOB, job), backoff.failed(uid, now, scale)),
                            Abort(),
                        ],
                    )
                )
    status.update(
        {
            "active": len(active),
            "succeeded": succeeded,
            "failed": failed,
            "ready": sum(1 for p in active if pod_ready(p)),
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }
    )
    for k in ("active", "succeeded", "failed"):
        if not status[k]:
            status.pop(k)
    if conditions:
        status["conditions"] = conditions
    if status != old:
        actions.insert(0, UpdateStatus(JOB, dict(job, status=status)))
    return actions


async def run(ctx: ControllerContext) -> None:
    def reconcile(job: dict, cache: Cache, now: float, backoff: Backoff) -> list:
        return reconcile_job(job, cache.list("pods", job["metadata"]["namespace"]), now, ctx.time_scale, backoff)

    await pod_owner_loop(ctx, IDENTITY, JOB, "Job", reconcile).run()
