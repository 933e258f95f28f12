"""Step 8: is ClearML answering? Through the routes on a real cluster; what can be checked on the practice one."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import replace

from .base import Check, Step, StepResult, fix_by, missing_project
from .routes import admitted_host, service_names

# component -> (path, what a healthy answer contains); facts: clearml-chart.md §6
HEALTH = {"apiserver": ("/debug.ping", "ClearML server"), "fileserver": ("/", "OK"), "webserver": ("/", "")}


def http_check(url: str, expect: str, timeout: float = 10) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http URL built from a Route)
            body = response.read(4096).decode("utf-8", "replace")
            ok = response.status == 200 and expect in body
            return ok, f"HTTP {response.status}"
    except urllib.error.HTTPError as err:
        return False, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        return False, f"no answer ({getattr(err, 'reason', err)})"


def client_config(hosts: dict[str, str]) -> str:
    """The `api` section of ~/clearml.conf for the SDK, pointing at the three routes."""
    return (
        "api {\n"
        f"  web_server: http://{hosts.get('webserver', '<webserver route>')}\n"
        f"  api_server: http://{hosts.get('apiserver', '<apiserver route>')}\n"
        f"  files_server: http://{hosts.get('fileserver', '<fileserver route>')}\n"
        '  credentials { access_key: "<from the web UI>", secret_key: "<from the web UI>" }\n'
        "}"
    )


class Verify(Step):
    name = "verify"
    title = "Verify ClearML"
    explanation = (
        "The apiserver answers /debug.ping, the file server answers /, and the web UI is served by nginx. On a "
        "real cluster the lab asks each through its Route. The first login needs no password: type a name and "
        "ClearML creates that user; then create access keys in the web UI for the SDK. The practice cluster "
        "runs no containers, so there only the Routes and endpoints can be checked."
    )

    def commands(self, lab) -> list[str]:
        release = lab.settings.release
        return [
            f"curl http://$(oc get route {release}-apiserver -o jsonpath='{{.spec.host}}')/debug.ping",
            f"curl -X OPTIONS http://$(oc get route {release}-fileserver -o jsonpath='{{.spec.host}}')/",
            f"oc get route {release}-webserver -o jsonpath='{{.spec.host}}'   # open it in a browser",
        ]

    def check(self, lab, timeout: float = 60) -> StepResult:
        missing = missing_project(lab, self.name, "check")
        if missing:
            return missing
        kube, ns = lab.kube(), lab.namespace
        routes = {r["metadata"]["name"]: r for r in kube.list("routes", ns).get("items", [])}
        endpoints = {e["metadata"]["name"]: e for e in kube.list("endpoints", ns).get("items", [])}
        checks, hosts = [], {}
        for name, component in zip(service_names(lab), ("apiserver", "webserver", "fileserver"), strict=True):
            host = admitted_host(routes.get(name, {}))
            ready = any(s.get("addresses") for s in endpoints.get(name, {}).get("subsets", []) or [])
            checks.append(
                Check(
                    f"{component} route",
                    bool(host),
                    f"http://{host}" if host else "missing",
                    None if host else fix_by("routes"),
                )
            )
            checks.append(
                Check(
                    f"{component} endpoints",
                    ready,
                    "pods ready behind the service" if ready else "no ready pod behind the service",
                    None if ready else fix_by("install"),
                )
            )
            if host:
                hosts[component] = host
            path, expect = HEALTH[component]
            if lab.is_practice:
                checks.append(
                    Check(
                        f"{component} HTTP",
                        None,
                        "skipped: HTTP checks need a real cluster (the practice cluster runs no containers)",
                    )
                )
            elif host:
                ok, detail = http_check(f"http://{host}{path}", expect)
                checks.append(
                    Check(f"{component} HTTP {path}", ok, detail, None if ok else f"oc logs deploy/{name} -n {ns}")
                )
        ok = all(c.ok is not False for c in checks)
        output = (
            "First login: open the web UI, type any user name (no password by default).",
            "SDK configuration (~/clearml.conf):",
            *client_config(hosts).splitlines(),
        )
        summary = (
            "ClearML answers through its routes."
            if ok and not lab.is_practice
            else (
                "routes admitted and endpoints ready; HTTP checks skipped on the practice cluster."
                if ok
                else "ClearML is not fully reachable yet."
            )
        )
        return StepResult(self.name, "check", ok, summary, tuple(checks), output=output, target=lab.describe())

    def run(self, lab, on_line=None) -> StepResult:
        return replace(self.check(lab), action="run")

    def undo(self, lab, on_line=None) -> StepResult:
        return StepResult(
            self.name, "undo", True, "nothing to undo: this step only reads.", target=lab.describe(), neutral=True
        )
