"""Step 7: Routes, so the web UI, the API and the file server are reachable from outside the cluster."""

from __future__ import annotations

from .. import progress
from ..kube import wait_for
from ..oc import expose_service
from .base import Check, Step, StepResult, fix_by, missing_project

COMPONENTS = ("apiserver", "webserver", "fileserver")


def service_names(lab) -> list[str]:
    return [f"{lab.settings.release}-{c}" for c in COMPONENTS]


def admitted_host(route: dict) -> str | None:
    for ingress in route.get("status", {}).get("ingress", []) or []:
        if any(c.get("type") == "Admitted" and c.get("status") == "True" for c in ingress.get("conditions", [])):
            return ingress.get("host")
    return None


class Routes(Step):
    name = "routes"
    title = "Expose ClearML with Routes"
    explanation = (
        "With ClusterIP services, nothing outside the cluster can reach ClearML yet. `oc expose svc` creates a "
        "Route for each service; OpenShift's router gives it a host under the cluster's apps domain "
        "(<name>-<project>.<apps domain>) and starts forwarding HTTP to the service."
    )

    def commands(self, lab) -> list[str]:
        return [f"oc expose svc/{name}" for name in service_names(lab)]

    def run(self, lab, on_line=None) -> StepResult:
        missing = missing_project(lab, self.name, "run")
        if missing:
            return missing
        kube, lines, changed = lab.kube(), [], False
        services = {s["metadata"]["name"] for s in kube.list("services", lab.namespace).get("items", [])}
        absent = [name for name in service_names(lab) if name not in services]
        if absent:
            return StepResult(
                self.name,
                "run",
                False,
                f"there is nothing to expose yet: service(s) {', '.join(absent)} "
                f"do not exist in project {lab.namespace}.",
                fix=fix_by("install"),
                target=lab.describe(),
            )
        for name in service_names(lab):
            created, line = expose_service(kube, lab.namespace, name)
            changed |= created
            lines.append(line)
            if on_line:
                on_line(line)
        result = self.check(lab)
        return result.as_run(lab.describe(), lines, changed=changed)

    def check(self, lab, timeout: float = 60) -> StepResult:
        missing = missing_project(lab, self.name, "check")
        if missing:
            return missing
        kube, names = lab.kube(), set(service_names(lab))
        progress.report("waiting for the router to admit " + ", ".join(sorted(names)))

        def admitted(items):
            return names <= {r["metadata"]["name"] for r in items if admitted_host(r)}

        wait_for(kube, "routes", admitted, namespace=lab.namespace, timeout=timeout)
        routes = {r["metadata"]["name"]: r for r in kube.list("routes", lab.namespace).get("items", [])}
        checks = []
        for name in sorted(names):
            host = admitted_host(routes.get(name, {}))
            checks.append(
                Check(
                    name,
                    bool(host),
                    f"http://{host}" if host else ("not admitted yet" if name in routes else "no route"),
                    None if host else f"oc expose svc/{name}",
                )
            )
        ok = all(c.ok for c in checks)
        return StepResult(
            self.name,
            "check",
            ok,
            "all three routes are admitted." if ok else "some routes are missing or not admitted.",
            tuple(checks),
            target=lab.describe(),
        )

    def undo(self, lab, on_line=None) -> StepResult:
        kube, deleted = lab.kube(), []
        for name in service_names(lab):
            if kube.delete("routes", name, lab.namespace) is not None:
                deleted.append(f'route.route.openshift.io "{name}" deleted')
        return StepResult(
            self.name,
            "undo",
            True,
            f"{len(deleted)} route(s) deleted." if deleted else "no route to delete; nothing to undo.",
            changed=bool(deleted),
            output=tuple(deleted),
            target=lab.describe(),
            neutral=not deleted,
        )
