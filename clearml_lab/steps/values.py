"""Step 4: values.yaml for OpenShift — a profile, the learner's overrides, validated before install."""

from __future__ import annotations

import re

import yaml

from .. import chart
from ..errors import LabError
from ..profiles import install_fixes, profile_values
from ..values import lint
from ..values_layers import layers
from .base import Check, Step, StepResult


def values_for(lab) -> dict:
    """The profile, then the chart version's fixes, then the learner's values (form and hand edits): values_layers."""
    return layers(lab).values


def values_text(lab) -> str:
    return layers(lab).text()


def _leaves(values: dict, prefix: str = ""):
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def pitfalls(lab, values: dict) -> list[Check]:
    """Known traps of the chart era, pointed out where they apply."""
    notes = []
    given = dict(_leaves(values))
    for fix in install_fixes(lab.chart_version):
        for key, wanted in _leaves(fix.values):
            ok = given.get(key) == wanted
            notes.append(
                Check(key, ok, str(given.get(key, "chart default")), None if ok else f"set {key}: {wanted} ({fix.why})")
            )
    major_minor = tuple(int(x) for x in lab.chart_version.split("-")[0].split(".")[:2])
    sa_note = (
        "core pods run as service account default; MongoDB and Redis as clearml-mongodb and clearml-redis"
        if major_minor < (7, 4)
        else "core pods run as clearml-apiserver, clearml-fileserver and clearml-webserver (since 7.4.0), so "
        "the seed recipe's `-z default` grant no longer reaches them"
    )
    notes.append(Check("service accounts", True, sa_note))
    notes.append(
        Check(
            "webserver port",
            True,
            "the Route targets service port 8080, which forwards to nginx on "
            "container port 80 (so the webserver runs as root)",
        )
    )
    return notes


def workshop_fit(lab) -> list[Check]:
    """In a workshop, the instructor's SCC grants were computed for one chart version and profile; another choice
    may need grants the learner cannot make. A warning, not a failure: the scc step's check decides."""
    seat = lab.workshop
    if not seat:
        return []
    # In a workshop an unchosen version is already the seat's (workshop_mode.follow); a kept one may differ.
    chart = lab.settings.chart_version or (lab.pinned_chart() or {}).get("version")
    chosen = {"chart": chart, "profile": lab.settings.profile}
    prepared = {"chart": seat.chart_version, "profile": seat.profile}
    differ = [
        f"{key} {prepared[key]} (you chose {chosen[key]})"
        for key in prepared
        if prepared[key] and chosen[key] and prepared[key] != chosen[key]
    ]
    if not differ:
        return []
    return [
        Check(
            "workshop",
            None,
            "your instructor prepared this project for " + " and ".join(differ),
            "choose what the workshop was prepared for, or ask your instructor whether its grants fit yours",
        )
    ]


class Values(Step):
    name = "values"
    title = "Write values.yaml for OpenShift"
    explanation = (
        "The chart's defaults assume plain Kubernetes. For OpenShift the recipe changes a few values: a "
        "dedicated service account for Elasticsearch, the ClearML apiserver running as root, and ClusterIP "
        "services (Routes replace NodePorts). The `seed` profile keeps the recipe's values; `hardened` is the "
        "least-privilege variant. The file is checked against the chart's real keys and rendered before "
        "anything is installed."
    )

    def commands(self, lab) -> list[str]:
        return [
            f"cat > values.yaml   # profile {lab.settings.profile}, shown below",
            f"helm template {lab.settings.release} clearml/clearml --version {lab.chart_version} "
            f"-f values.yaml --kube-version <cluster version>   # validate before installing",
        ]

    def run(self, lab, on_line=None) -> StepResult:
        try:
            lab.pin_chart_version()  # resolved once, kept: scc and install use the same version
        except LabError as err:
            return StepResult(
                self.name,
                "run",
                False,
                str(err),
                fix="choose a chart version the repository serves (clearml-lab charts)",
                target=lab.describe(),
            )
        layered = layers(lab)  # keeps what the learner typed in the form or changed in values.yaml by hand
        text = layered.text()
        path = lab.values_file
        changed = not path.exists() or path.read_text() != text
        if changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(path)  # atomic: a half-written values.yaml is never left behind
        result = self.check(lab)
        summary = (f"wrote {path}" if changed else f"{path} is already up to date") + "; " + result.summary
        if layered.learner_keys:
            summary += " Kept your values: " + ", ".join(layered.learner_keys) + "."
        return result.as_run(lab.describe(), text.splitlines(), changed=changed, summary=summary)

    def check(self, lab, timeout: float = 60) -> StepResult:
        path = lab.values_file
        if not path.exists():
            return StepResult(
                self.name,
                "check",
                False,
                "no values.yaml yet.",
                fix="run `clearml-lab run values` (notebook 03)",
                target=lab.describe(),
            )
        text = path.read_text()
        try:
            version, repo = lab.chart_version, lab.chart_repo
            keys = chart.chart_keys(version, repo)
        except LabError as err:
            return StepResult(
                self.name,
                "check",
                False,
                str(err),
                fix="choose a chart repository and version the lab can read (--chart-repo, clearml-lab charts)",
                target=lab.describe(),
            )
        # A key the profile sets that this chart version lacks is reported as the profile's.
        leaves = [key.split(".") for key, _ in _leaves(profile_values(lab.settings.profile, version))]
        origin = {
            ".".join(parts[:i]): f"profile {lab.settings.profile}" for parts in leaves for i in range(1, len(parts) + 1)
        }
        problems = lint(text, keys, origin=origin)
        checks = [Check(f"line {p.line}", False if p.severity == "error" else None, p.message) for p in problems]
        if note := chart.source_note(repo):
            checks.append(Check("chart repository", None, note))
        errors = [p for p in problems if p.severity == "error"]
        if not errors:
            try:
                chart.render(
                    version,
                    repo=repo,
                    values_file=str(path),
                    profile=None,
                    release=lab.settings.release,
                    namespace=lab.namespace,
                    kube_version=lab.server_version(),
                )
                checks.append(Check("helm template", True, "the chart renders with these values"))
            except LabError as err:
                checks.append(Check("helm template", False, str(err)))
            checks += pitfalls(lab, yaml.safe_load(text) or {})
        checks += workshop_fit(lab)
        ok = all(c.ok is not False for c in checks)
        summary = (
            "values.yaml is valid for this chart."
            if ok
            else f"values.yaml has {sum(c.ok is False for c in checks)} problem(s)."
        )
        # A chart whose kubeVersion refuses the cluster is not fixed in values.yaml: name the versions that fit.
        refused = next(
            (
                c.detail
                for c in checks
                if c.label == "helm template" and c.ok is False and "helm refuses" in c.detail and "; " in c.detail
            ),
            None,
        )
        fitting = refused and re.search(r"choose chart (\S+) for", refused)
        fix = (
            (
                refused.split("; ", 1)[1].rstrip(".") + f" (`clearml-lab run values --chart-version "
                f"{fitting[1] if fitting else 'VERSION'}`, notebook 03)"
            )
            if refused
            else f"edit {path} and check again"
        )
        return StepResult(
            self.name, "check", ok, summary, tuple(checks), fix=None if ok else fix, target=lab.describe()
        )

    def undo(self, lab, on_line=None) -> StepResult:
        existed = lab.values_file.exists()
        lab.values_file.unlink(missing_ok=True)
        return StepResult(
            self.name,
            "undo",
            True,
            "values.yaml removed." if existed else "no values.yaml to remove.",
            changed=existed,
            target=lab.describe(),
            neutral=not existed,
        )
