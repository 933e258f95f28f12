"""PlanTable: the SCC grants a plan calls for, one row each with the reason and a button that applies it, and what
the plan warns about (a grant that captures a sibling pod, images it knows nothing about)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as widgets

from ..errors import LabError
from ._html import badge


@dataclass(frozen=True)
class Row:
    grant: Any  # what on_apply receives: the plan's own grant object
    scc: str
    service_account: str
    reason: str
    command: str


def rows_of(plan) -> list[Row]:
    """The grant rows of a plan: ``clearml_lab.scc.planner.Plan`` (grants() plus per-service-account reasons),
    or any iterable/``.grants`` of objects with ``scc``, ``service_account``, ``reason`` and ``command``."""
    grants = getattr(plan, "grants", plan)
    grants = list(grants() if callable(grants) else grants)
    reasons = {sa.name: " ".join(sa.reasons) for sa in getattr(plan, "service_accounts", [])}
    rows = []
    for grant in grants:
        command = getattr(grant, "command", "")
        if callable(command):
            command = command(getattr(plan, "namespace", None))
        reason = getattr(grant, "reason", None) or reasons.get(grant.service_account, "")
        rows.append(Row(grant, grant.scc, grant.service_account, reason, command))
    return rows


def _outcome(result) -> tuple[bool, str]:
    """(ok, one line) for whatever on_apply returned: a StepResult-like object, a bool, a string or None."""
    if result is None or isinstance(result, bool):
        return result is not False, "applied" if result is not False else "not applied"
    ok = bool(getattr(result, "ok", True))
    summary = getattr(result, "summary", None) or str(result)
    fix = getattr(result, "fix", None)
    return ok, summary + (f" Fix: {fix}" if fix and not ok else "")


class PlanTable(widgets.VBox):
    """One row per grant (SCC, service account, reason, command) and an Apply button calling ``on_apply(grant)``."""

    def __repr__(self) -> str:  # the text/plain nbval compares
        return f"PlanTable({len(self.rows)} grants)"

    def __init__(self, plan, on_apply: Callable[[Any], Any]):
        self.plan, self.on_apply = plan, on_apply
        self.rows = rows_of(plan)
        self.outcomes: list[tuple[bool, str] | None] = [None] * len(self.rows)
        self.apply_buttons: list[widgets.Button] = []
        self.result_html: list[widgets.HTML] = []
        cells = [widgets.HTML(f"<b>{h}</b>") for h in ("SCC", "service account", "reason", "command", "", "")]
        for i, row in enumerate(self.rows):
            button = widgets.Button(
                description="Apply",
                button_style="primary",
                tooltip=row.command or f"grant {row.scc} to {row.service_account}",
            )
            button.on_click(lambda _button, i=i: self.apply(i))
            self.apply_buttons.append(button)
            self.result_html.append(widgets.HTML())
            cells += [
                widgets.HTML(f"<code>{escape(row.scc)}</code>"),
                widgets.HTML(escape(row.service_account)),
                widgets.HTML(escape(row.reason)),
                widgets.HTML(f"<code>{escape(row.command)}</code>"),
                button,
                self.result_html[-1],
            ]
        grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(
                # The result column shares the width (an `auto` one grew with the first outcome's sentence past the
                # output area, which clipped the table after one Apply).
                grid_template_columns="auto auto minmax(12em, 2fr) minmax(10em, 1fr) auto minmax(8em, 1.5fr)",
                grid_gap="4px 12px",
                width="100%",
            ),
        )
        empty = widgets.HTML(f"<p>{escape(self._nothing_to_grant())}</p>")
        self.warnings = list(getattr(plan, "warnings", None) or ())
        children = [grid if self.rows else empty]
        if self.warnings:
            children.append(widgets.HTML("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in self.warnings) + "</ul>"))
        super().__init__(children)

    def _nothing_to_grant(self) -> str:
        made = [f"{g.scc} to {g.service_account}" for g in getattr(self.plan, "existing_grants", None) or ()]
        if made:
            return "Nothing left to grant: this project already has " + ", ".join(made) + "."
        return "The plan needs no SCC grants."

    def apply(self, index: int) -> tuple[bool, str] | None:
        """What the row's button does; ignored while that row is being applied or after it succeeded."""
        button = self.apply_buttons[index]
        if button.disabled:
            return None
        button.disabled = True
        button.description = "Applying…"
        try:
            outcome = _outcome(self.on_apply(self.rows[index].grant))
        except LabError as err:
            outcome = (False, str(err))
        self.outcomes[index] = outcome
        ok, line = outcome
        self.result_html[index].value = badge("PASS" if ok else "FAIL", line)
        button.description = "Applied" if ok else "Apply"
        button.disabled = ok  # a grant that worked needs no second press; a failed one may be retried
        return outcome

    @property
    def text(self) -> str:
        if not self.rows:
            return self._nothing_to_grant()
        lines = []
        for row, outcome in zip(self.rows, self.outcomes, strict=True):
            state = "not applied" if outcome is None else ("PASS " if outcome[0] else "FAIL ") + outcome[1]
            lines.append(f"{row.scc} -> {row.service_account}: {row.reason} [{state}]")
        return "\n".join(lines)

    @property
    def warnings_text(self) -> str:
        """The plan's warnings, one `Note:` line each (empty when there are none)."""
        return "\n".join(f"Note: {warning}" for warning in self.warnings)
