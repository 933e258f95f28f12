"""What every recipe step is, and the result it returns.

A step is read (its explanation and the exact oc/helm ``commands()`` it stands for), run (idempotently: a second run
changes nothing and says so), checked (like a workshop examiner: pass/fail with a plain sentence and the fix, polling
with a timeout instead of sleeping) and undone. Results are plain data: widgets, the CLI and tests render them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

OK, FAIL, UNKNOWN = True, False, None
ICONS = {OK: "✅", FAIL: "❌", UNKNOWN: "⚠️"}

LineSink = Callable[[str], None]


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

    @property
    def badge(self) -> str:
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
