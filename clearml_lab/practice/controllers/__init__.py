"""The practice cluster's controllers. Each is ``async def run(ctx)``: a watch loop around pure ``reconcile``
functions, acting through a client bound to its own identity (see ``base.py``)."""

from __future__ import annotations

from . import (
    deployment,
    disruption,
    endpoints,
    gc,
    ingress,
    job,
    kubelet,
    namespace,
    replicaset,
    route,
    statefulset,
    volume,
)

CONTROLLERS = [
    namespace.run_allocation,
    namespace.run_service_accounts,
    namespace.run_deletion,
    deployment.run,
    replicaset.run,
    statefulset.run,
    job.run,
    gc.run,
    volume.run,
    endpoints.run,
    disruption.run,
    route.run,
    ingress.run,
    kubelet.run,
]

__all__ = ["CONTROLLERS"]
