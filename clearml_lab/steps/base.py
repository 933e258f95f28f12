"""What every recipe step is, and the result it returns.

A step is read (its explanation and the exact oc/helm ``commands()`` it stands for), run (idempotently: a second run
changes nothing and says so), checked (like a workshop examiner: pass/fail with a plain sentence and the fix, polling
with a timeout instead of sleeping) and undone. Results are plain data: widgets, the CLI and tests render them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ..oc import visible_project

OK, FAIL, UNKNOWN = True, False, None
ICONS = {OK: "✅", FAIL: "❌", UNKNOWN: "⚠️"}

LineSink = Callable[[str], None]

# The notebook that teaches each step: every failure names the step that fixes it as a command and a notebook.
NOTEBOOK_OF = {
    "prerequisites": "00",
    "helm-repo": "01",
    "project": "02",
    "values": "03",
    "scc": "04",
    "install": "05",
    "routes": "06",
    "verify": "08",
    "cleanup": "09",
}


def fix_by(step: str) -> str:
    """The way out of a dead end: 'run `clearml-lab run project` (notebook 02)'."""
    return f"run `clearml-lab run {step}` (notebook {NOTEBOOK_OF[step]})"


def missing_project(lab, step: str, action: str) -> StepResult | None:
    """A failed result at once when the lab's project does not exist (or this login cannot see it), else None:
    nothing that needs the project waits for it."""
    if visible_project(lab.kube(), lab.namespace) is not None:
        return None
    return StepResult(
        step,
        action,
        False,
        f"project {lab.namespace} does not exist on {lab.target.describe()}.",
        fix=fix_by("project"),
        target=lab.describe(),
    )


@dataclass(frozen=True)
class Check:
    """One line of a result: what was looked at, whether it holds (None: cannot be known), and the fix."""

    label: str
    ok: bool | None
    detail: str = ""
    fix: str | None = None

    @property
    def icon(self) -> str:
        return ICONS[self.ok]

    def render(self) -> str:
        text = f"{self.icon} {self.label}"
        if self.detail:
            text += f": {self.detail}"
        if self.fix and self.ok is not True:
            text += f" — fix: {self.fix}"
        return text


@dataclass(frozen=True)
class StepResult:
    step: str
    action: str  # run | check | undo
    ok: bool
    summary: str  # one plain sentence
    checks: tuple[Check, ...] = ()
    changed: bool = False
    output: tuple[str, ...] = ()  # what the commands printed (oc-style lines, helm output)
    fix: str | None = None
    target: str = ""  # which cluster and identity this acted on
    neutral: bool = False  # nothing was to be done (e.g. nothing to undo): neither a pass nor a failure

    def as_run(self, target: str, output, *, changed: bool = False, summary: str | None = None) -> StepResult:
        """A run's result from the check that closed it: the check's verdict, checks and fix, with what the run did."""
        return replace(
            self,
            action="run",
            output=tuple(output),
            changed=changed,
            summary=summary or self.summary,
            target=target,
            neutral=False,
        )

    @property
    def badge(self) -> str:
        if self.neutral and self.ok:
            return "INFO"
        return "PASS" if self.ok else "FAIL"

    def render_text(self) -> str:
        lines = [f"[{self.badge}] {self.step} {self.action}: {self.summary}"]
        if self.target:
            lines.append(f"  on {self.target}")
        lines += [f"  {line}" for line in self.output]
        lines += [f"  {check.render()}" for check in self.checks]
        if self.fix and not self.ok:
            lines.append(f"  fix: {self.fix}")
        return "\n".join(lines)


class Step:
    """Base class: subclasses declare their text as class attributes and implement the four actions."""

    name: str = ""
    title: str = ""
    explanation: str = ""

    def commands(self, lab) -> list[str]:
        raise NotImplementedError

    def run(self, lab, on_line: LineSink | None = None) -> StepResult:
        raise NotImplementedError

    def check(self, lab, timeout: float = 60) -> StepResult:
        raise NotImplementedError

    def undo(self, lab, on_line: LineSink | None = None) -> StepResult:
        raise NotImplementedError
