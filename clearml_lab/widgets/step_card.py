"""StepCard: one recipe step as a learner sees it — why, the exact commands, and buttons that do and check it."""

from __future__ import annotations

import threading
from html import escape

import ipywidgets as widgets

from .. import progress
from ..equivalents import equivalent, oc_missing
from ..errors import LabError
from ..steps.base import Step, StepResult
from ..workshop_mode import record_step
from ._html import TextPlain, badge, paragraphs, pre

# Which step actions each button performs, in order; "run it for me" checks only after a successful run.
ACTIONS = {"run": ("run",), "check": ("check",), "undo": ("undo",), "run_it_for_me": ("run", "check")}
LABELS = {"run": "Run", "check": "Check", "undo": "Undo", "run_it_for_me": "Run it for me"}
STYLES = {"run": "primary", "check": "info", "undo": "warning", "run_it_for_me": "success"}
MAX_LINES = 400  # streamed lines kept on screen; a long helm install must not grow the page without end


class StepCard(TextPlain, widgets.VBox):
    """Run / Check / Undo / "Run it for me" for one step, each action in a background thread.

    While an action runs every button is disabled and further clicks are ignored, so double clicks are harmless.
    ``wait()`` blocks until the action has finished (notebooks call it so their printed ``text`` is final).
    """

    def __init__(self, step: Step, lab, *, check_timeout: float = 60):
        self.step, self.lab, self.check_timeout = step, lab, check_timeout
        self._lock = threading.Lock()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._lines: list[str] = []
        self._results: tuple[StepResult, ...] = ()
        self._commands, commands_error = self._read_commands()

        describe = getattr(lab, "describe", None)
        where = f"<div><small>acts on {escape(describe())}</small></div>" if callable(describe) else ""
        self.title = widgets.HTML(f"<h3>{escape(self._title)}</h3>{where}")
        self.explanation = widgets.HTML(paragraphs(step.explanation or ""))
        self.commands_html = widgets.HTML(
            pre(self._command_lines(), "background:#f5f5f5;padding:6px")
            or f"<p><i>{escape(commands_error or 'This step runs no commands.')}</i></p>"
        )
        self.buttons = {}
        for action in ACTIONS:
            button = widgets.Button(description=LABELS[action], button_style=STYLES[action])
            button.on_click(lambda _button, action=action: self.start(action))
            self.buttons[action] = button
        self.badge = widgets.HTML()
        self.progress = widgets.HTML()  # the live line while an action runs (what is awaited, elapsed); then empty
        self.output = widgets.HTML()
        self._listeners: list = []
        super().__init__(
            [
                self.title,
                self.explanation,
                self.commands_html,
                widgets.HBox(list(self.buttons.values())),
                self.progress,
                self.badge,
                self.output,
            ]
        )

    # -- what it shows ---------------------------------------------------------------------------------------

    @property
    def _title(self) -> str:
        return self.step.title or self.step.name

    def _command_lines(self) -> list[str]:
        """``$ command`` per command; without `oc` on PATH, each `oc` command is followed by the kubectl command
        that does the same with the tools the lab installed."""
        namespace = getattr(self.lab, "namespace", None)
        lines = []
        for command in self._commands:
            lines.append(f"$ {command}")
            same = equivalent(command, namespace) if oc_missing() else None
            if same:
                lines.append(f"  (no oc here: $ {same})")
        return lines

    def _read_commands(self) -> tuple[list[str], str | None]:
        try:
            return list(self.step.commands(self.lab)), None
        except NotImplementedError:
            return [], None
        except LabError as err:
            return [], str(err)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def results(self) -> tuple[StepResult, ...]:
        """The results of the last button press (two for "run it for me" when the run succeeded)."""
        return self._results

    @property
    def last_result(self) -> StepResult | None:
        return self._results[-1] if self._results else None

    @property
    def lines(self) -> list[str]:
        """The output lines streamed by the current or last action."""
        with self._lock:
            return list(self._lines)

    @property
    def text(self) -> str:
        """What the card shows, as deterministic text: title, commands, then each result of the last action."""
        lines = [self._title, *self._command_lines()]
        if self._busy:
            lines.append("(running)")
        lines += [result.render_text() for result in self._results] or ["(not run yet)"]
        return "\n".join(lines)

    # -- actions ----------------------------------------------------------------------------------------------

    def run(self):
        return self.start("run")

    def check(self):
        return self.start("check")

    def undo(self):
        return self.start("undo")

    def run_it_for_me(self):
        return self.start("run_it_for_me")

    def start(self, action: str) -> threading.Thread | None:
        """Begin a button's action in a thread; returns None (and does nothing) while another action runs."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; choose one of {', '.join(ACTIONS)}")
        with self._lock:
            if self._busy:
                return None
            self._busy = True
            self._lines = []
        self._results = ()
        self._set_buttons(disabled=True)
        self.output.value = ""
        self.badge.value = ""
        self.progress.value = badge("RUNNING", f"{LABELS[action]}…")
        self._notify()
        self._thread = threading.Thread(
            target=self._perform, args=(action,), daemon=True, name=f"step-{self.step.name}-{action}"
        )
        self._thread.start()
        return self._thread

    def wait(self, timeout: float | None = None) -> StepResult | None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.last_result

    def _perform(self, action: str) -> None:
        try:
            for name in ACTIONS[action]:
                result = self._call(name)
                self._results += (result,)
                if name == "run":  # in a workshop project, what the learner tried is kept for the instructor (#17)
                    record_step(self.lab, result)
                self._show_results()
                if not result.ok:
                    break
        finally:
            self.progress.value = ""
            with self._lock:
                self._busy = False
            self._set_buttons(disabled=False)
            self._notify()

    def on_change(self, callback) -> None:
        """Call ``callback(card)`` whenever an action starts, shows a result or ends (for views that follow it)."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback(self)
            except Exception:  # a closed follower must not stop the card
                pass

    def _call(self, name: str) -> StepResult:
        ticker = progress.Ticker(
            f"{LABELS.get(name, name)} {self._title.lower()}",
            lambda text: setattr(self.progress, "value", badge("RUNNING", text)),
        )
        with ticker, progress.reporting(ticker.report):
            return self._call_step(name)

    def _call_step(self, name: str) -> StepResult:
        try:
            if name == "check":
                return self.step.check(self.lab, timeout=self.check_timeout)
            return getattr(self.step, name)(self.lab, on_line=self._on_line)
        except LabError as err:
            return StepResult(step=self.step.name, action=name, ok=False, summary=str(err))
        except Exception as err:  # shown on the card: an exception in a thread would otherwise vanish
            return StepResult(
                step=self.step.name,
                action=name,
                ok=False,
                summary=f"the step failed unexpectedly ({err.__class__.__name__}: {err}).",
                fix="this is a bug in the lab: please report it with this text.",
            )

    def _on_line(self, line: str) -> None:
        with self._lock:
            self._lines.append(line.rstrip("\n"))
            del self._lines[:-MAX_LINES]
            shown = list(self._lines)
        self.output.value = pre(shown, "max-height:20em;overflow:auto")

    def _show_results(self) -> None:
        parts = []
        for result in self._results:
            parts.append(f"<div>{badge(result.badge, f'{result.action}: {result.summary}')}</div>")
            if result.target:
                parts.append(f"<div><small>on {escape(result.target)}</small></div>")
            if result.checks:
                parts.append("<ul>" + "".join(f"<li>{escape(c.render())}</li>" for c in result.checks) + "</ul>")
            if result.fix and not result.ok:
                parts.append(f"<div><b>Fix:</b> {escape(result.fix)}</div>")
        self.badge.value = "".join(parts)
        self._notify()
        if not self.lines:  # nothing was streamed: show what the commands printed
            self.output.value = pre([line for r in self._results for line in r.output], "max-height:20em;overflow:auto")

    def _set_buttons(self, disabled: bool) -> None:
        for button in self.buttons.values():
            button.disabled = disabled


class CardOutcome(TextPlain, widgets.HTML):
    """One line under the cell that pressed a card's button from code: how the card's last action ended, kept
    current as the card changes (never a stale copy). Its text/plain is the full result text at the moment it is
    displayed — the state after the action, which nbval compares."""

    def __init__(self, card: StepCard):
        self.card = card
        super().__init__()
        self._update(card)
        card.on_change(self._update)

    @property
    def text(self) -> str:
        return "\n".join(r.render_text() for r in self.card.results) or f"{self.card.step.name}: not run yet."

    def _update(self, card: StepCard) -> None:
        if card.busy:
            self.value = badge("RUNNING", "see the card above")
        elif card.results:
            self.value = (
                " · ".join(badge(r.badge, r.action) for r in card.results)
                + " <small>— details in the card above</small>"
            )
        else:
            self.value = ""
