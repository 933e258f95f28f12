"""WorkshopDashboard: the instructor's notebook view of a workshop — provision learners from a form, watch the live
progress table, reset one learner to a chosen step, tear everything down behind a confirmation.

No cluster logic here: every action calls the workshop library (clearml_lab.workshop) and renders its result. Every
action runs in a background thread so the kernel stays free (a refresh of twenty learners takes seconds); while one
runs, a busy line says what it is doing and the buttons that would start another are disabled.
"""

from __future__ import annotations

import threading
from html import escape

import ipywidgets as widgets

from .. import workshop
from ..errors import LabError
from ..steps import RECIPE
from ._html import TextPlain, pre

CELL_COLOURS = {"pass": "#2e7d32", "FAIL": "#c62828", "-": "#9e9e9e"}
AUTO_REFRESH_S = 30


class WorkshopDashboard(TextPlain, widgets.VBox):
    """The instructor's dashboard. ``library`` is clearml_lab.workshop (tests pass a stand-in with the same
    functions: learner_names, provision, progress, reset, teardown_plan, teardown).

    ``refresh()``, ``provision()``, ``reset(learner, to)`` and ``teardown(confirmed=...)`` start the action in a thread
    and return at once; ``wait()`` blocks until it has finished (tests and scripts call it)."""

    def __init__(self, lab, *, library=None, steps: tuple[str, ...] | None = None):
        if steps is None:
            steps = tuple(step.name for step in RECIPE)
        self.lab, self.library, self.steps = lab, library or workshop, tuple(steps)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._auto: threading.Event | None = None
        self.progress = None  # the last Progress read
        self.message_text = ""

        self.where = widgets.HTML(f"<b>Workshop on {escape(lab.target.describe())}</b> (you act as its admin)")
        # -- provision form
        self.mode = widgets.ToggleButtons(
            options=[("Names", "names"), ("A number of learners", "count")],
            value="names",
            description="Learners",
            style={"button_width": "auto"},
        )
        self.names = widgets.Text(
            placeholder="ana.lopez, grace, linus (their user names)",
            description="Names",
            layout=widgets.Layout(width="60%"),
        )
        self.count = widgets.BoundedIntText(
            value=20, min=1, max=500, description="How many", layout=widgets.Layout(display="none")
        )
        self.profile = widgets.Dropdown(options=["hardened", "seed"], value="hardened", description="Profile")
        auto = {"indent": False, "layout": widgets.Layout(width="auto", margin="0 0 0 16px")}
        self.allow_privileged = widgets.Checkbox(
            value=False, description="allow SCCs that open the node (risky)", **auto
        )
        self.force = widgets.Checkbox(value=False, description="even if the cluster's storage looks too small", **auto)
        self.provision_button = widgets.Button(description="Provision", button_style="primary", icon="users")
        self.mode.observe(self._mode_changed, names="value")
        self.provision_button.on_click(lambda _b: self.provision())
        form = widgets.VBox(
            [
                self.mode,
                self.names,
                self.count,
                widgets.HBox([self.profile, self.allow_privileged, self.force]),
                self.provision_button,
            ]
        )
        # -- progress
        self.refresh_button = widgets.Button(description="Refresh now", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.live = widgets.ToggleButton(description=f"Refresh every {AUTO_REFRESH_S} s", value=False)
        self.live.observe(self._live_changed, names="value")
        self.busy = widgets.HTML("")
        self.table = widgets.VBox([widgets.HTML("<i>Not read yet: press Refresh now.</i>")])
        self.stuck = widgets.HTML("")
        # -- teardown
        self.teardown_button = widgets.Button(description="Tear down…", button_style="danger", icon="trash")
        self.teardown_button.on_click(lambda _b: self.ask_teardown())
        self.confirm_text = widgets.HTML("")
        self.confirm_button = widgets.Button(description="Yes, delete them", button_style="danger")
        self.cancel_button = widgets.Button(description="Cancel")
        self.confirm_button.on_click(lambda _b: self.teardown(confirmed=True))
        self.cancel_button.on_click(lambda _b: self._hide_confirmation())
        self.confirmation = widgets.VBox(
            [self.confirm_text, widgets.HBox([self.confirm_button, self.cancel_button])],
            layout=widgets.Layout(display="none", border="2px solid #c62828", padding="6px"),
        )
        self.message = widgets.HTML("")
        self._plan: list[tuple[str, str]] | None = None
        super().__init__(
            [
                self.where,
                widgets.HTML("<h4>Provision</h4>"),
                form,
                widgets.HTML("<h4>Progress</h4>"),
                widgets.HBox([self.refresh_button, self.live]),
                self.busy,
                self.table,
                self.stuck,
                widgets.HTML("<h4>End of the workshop</h4>"),
                self.teardown_button,
                self.confirmation,
                self.message,
            ]
        )

    # -- what it says ----------------------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        """One sentence: where it acts and what it last read."""
        where = f"Workshop dashboard for {self.lab.target.describe()}"
        if self.progress is None:
            return f"{where}: progress not read yet (press Refresh now)."
        return f"{where}: {self.progress.counts()} (refreshed {self.progress.refreshed})."

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # -- actions, each in its own thread ---------------------------------------------------------------------------
    def _start(self, what: str, work) -> bool:
        with self._lock:
            if self.running:
                return False
            self._set_busy(what)
            self._thread = threading.Thread(target=self._run, args=(work,), daemon=True, name=f"workshop {what}")
            self._thread.start()
            return True

    def _run(self, work) -> None:
        try:
            work()
        except LabError as err:
            self._say(f"❌ {err}")
        except Exception as err:  # the dashboard must survive anything a thread meets; say it, keep going
            self._say(f"❌ {err.__class__.__name__}: {err}")
        finally:
            self._set_busy(None)

    def _set_busy(self, what: str | None) -> None:
        self.busy.value = f'<span class="workshop-busy">⏳ {escape(what)}…</span>' if what else ""
        for button in (self.refresh_button, self.provision_button, self.teardown_button, self.confirm_button):
            button.disabled = bool(what)
        for button in self._reset_buttons():
            button.disabled = bool(what)

    def _say(self, text: str) -> None:
        self.message_text = text
        self.message.value = pre(text.splitlines())

    def refresh(self) -> bool:
        return self._start("reading the progress of every learner from the cluster", self._refresh)

    def _refresh(self) -> None:
        self._show(self.library.progress(self.lab))

    def provision(self) -> bool:
        try:  # bad input is said at once, before any thread or cluster call
            if self.mode.value == "names":
                names = self.library.learner_names(names=self.names.value)
            else:
                names = self.library.learner_names(count=self.count.value)
        except LabError as err:
            self._say(f"❌ {err}")
            return False

        def work():
            result = self.library.provision(
                self.lab,
                names,
                profile=self.profile.value,
                allow_privileged=self.allow_privileged.value,
                force=self.force.value,
            )
            self._say(result.render_text())
            self._show(self.library.progress(self.lab))

        return self._start(f"provisioning {len(names)} learner(s)", work)

    def reset(self, learner: str, to: str) -> bool:
        def work():
            self._say(self.library.reset(self.lab, learner, to).render_text())
            self._show(self.library.progress(self.lab))

        return self._start(f"resetting {learner} to the start of {to}", work)

    def ask_teardown(self) -> bool:
        """Read what teardown would delete, then show the confirmation naming the cluster and the projects."""

        def work():
            self._plan = self.library.teardown_plan(self.lab)
            learners = len({learner for learner, _ in self._plan})
            projects = [ns for _, ns in self._plan]
            if not projects:
                self._say("Nothing to tear down: no learner is provisioned on this cluster.")
                return
            self.confirm_text.value = (
                f"<b>Delete {len(projects)} project(s) of {learners} learner(s) from "
                f"{escape(self.lab.target.describe())}?</b> Their installs, volumes and logins go with them: "
                f"{escape(', '.join(projects))}."
            )
            self.confirmation.layout.display = "flex"

        return self._start("reading what teardown would delete", work)

    def teardown(self, confirmed: bool = False) -> bool:
        if not confirmed or self._plan is None:
            self._say("Teardown needs the confirmation: press Tear down… and then Yes, delete them.")
            return False
        self._hide_confirmation()

        def work():
            result = self.library.teardown(self.lab)
            self._say(result.render_text())
            self._plan = None
            self._show(self.library.progress(self.lab))

        return self._start("tearing the workshop down (waits until the projects are gone)", work)

    def _hide_confirmation(self) -> None:
        self.confirmation.layout.display = "none"

    def _mode_changed(self, change) -> None:
        by_names = change["new"] == "names"
        self.names.layout.display = None if by_names else "none"
        self.count.layout.display = "none" if by_names else None

    def _live_changed(self, change) -> None:
        if self._auto is not None:
            self._auto.set()
            self._auto = None
        if change["new"]:
            stop = self._auto = threading.Event()

            def loop():
                while not stop.is_set():
                    if not self.running:
                        self.refresh()
                    stop.wait(AUTO_REFRESH_S)

            threading.Thread(target=loop, daemon=True, name="workshop auto-refresh").start()

    def close(self) -> None:
        if self._auto is not None:
            self._auto.set()
        super().close()

    # -- the table -------------------------------------------------------------------------------------------------
    def _reset_buttons(self) -> list:
        return [w for w in getattr(self, "_row_controls", []) if isinstance(w, widgets.Button)]

    def _show(self, progress) -> None:
        self.progress = progress
        columns = ["learner", "at", *progress.steps, "reset to", ""]
        cells = [widgets.HTML(f"<b>{escape(c)}</b>") for c in columns]
        self._row_controls = []
        for row in progress.rows:
            style = "background:#fff3cd;font-weight:bold" if row.stuck else ""
            cells.append(widgets.HTML(f'<span style="{style}">{escape(row.learner)}</span>'))
            cells.append(widgets.HTML(escape(row.current or "done")))
            for step in progress.steps:
                cell = row.cells[step]
                cells.append(
                    widgets.HTML(
                        f'<span title="{escape(row.details.get(step, ""))}" '
                        f'style="color:{CELL_COLOURS.get(cell, "#000")}">{escape(cell)}</span>'
                    )
                )
            to = widgets.Dropdown(
                options=list(self.steps),
                value=row.current if row.current in self.steps else self.steps[0],
                layout=widgets.Layout(width="auto"),
            )
            button = widgets.Button(
                description="Reset",
                button_style="warning",
                layout=widgets.Layout(width="auto"),
                tooltip=f"undo {row.learner}'s steps from the chosen one on",
            )
            button.on_click(lambda _b, learner=row.learner, to=to: self.reset(learner, to.value))
            self._row_controls += [to, button]
            cells += [to, button]
        totals = progress.totals()
        cells += [widgets.HTML("<i>passed</i>"), widgets.HTML("")]
        cells += [widgets.HTML(f"<i>{totals[s]}/{len(progress.rows)}</i>") for s in progress.steps]
        cells += [widgets.HTML(""), widgets.HTML("")]
        grid = widgets.GridBox(
            cells,
            layout=widgets.Layout(grid_template_columns=f"repeat({len(columns)}, max-content)", grid_gap="2px 12px"),
        )
        self.table.children = [grid, widgets.HTML(f"<small>{escape(progress.summary())}</small>")]
        lines = progress.stuck_lines() + progress.notes()
        self.stuck.value = pre(lines, "background:#fff3cd;padding:6px") if lines else ""
