"""The instructor's dashboard without a cluster: a stand-in for the workshop library records what the widget asks
for, so these tests pin the widget's own behaviour — actions in threads that never block the caller, a busy line
while they run, a Reset per learner with the chosen step, teardown only after a confirmation that names the cluster
and the projects, and a text/plain that reads as a sentence."""

import threading
from types import SimpleNamespace

import pytest

from clearml_lab.errors import UsageError
from clearml_lab.widgets.workshop_dashboard import WorkshopDashboard
from clearml_lab.workshop import Cause, Progress, Row, learner_names

STEPS = ("prerequisites", "helm-repo", "install")


def _row(learner, install="-", causes=()):
    cells = {"prerequisites": "pass", "helm-repo": "pass" if install != "-" else "-", "install": install}
    return Row(learner, f"{learner}-clearml", cells, {s: f"{s} of {learner}" for s in cells}, tuple(causes), 999, 0)


class Library:
    """Stands in for clearml_lab.workshop: answers at once, or when ``gate`` is set."""

    def __init__(self):
        self.calls, self.gate = [], threading.Event()
        self.gate.set()
        self.rows = [
            _row("learner2"),
            _row("learner10", "FAIL", [Cause("install failed: boom.", "run it again.", "learner")]),
        ]

    learner_names = staticmethod(learner_names)

    def progress(self, lab):
        self.calls.append(("progress",))
        assert self.gate.wait(10)
        return Progress(STEPS, tuple(self.rows), "08:00:00 UTC", lab.target.describe())

    def provision(self, lab, names, **options):
        self.calls.append(("provision", tuple(names), options))
        return SimpleNamespace(render_text=lambda: f"provisioned {len(names)} learner(s)")

    def reset(self, lab, learner, to):
        self.calls.append(("reset", learner, to))
        return SimpleNamespace(render_text=lambda: f"{learner} reset to the start of step {to}")

    def teardown_plan(self, lab):
        self.calls.append(("teardown_plan",))
        return [("learner2", "learner2-clearml"), ("learner10", "learner10-clearml"), ("learner10", "own")]

    def teardown(self, lab):
        self.calls.append(("teardown",))
        return SimpleNamespace(render_text=lambda: "nothing of the workshop is left on the cluster.")


@pytest.fixture
def dash():
    lab = SimpleNamespace(target=SimpleNamespace(describe=lambda: "the practice cluster at https://127.0.0.1:6443"))
    board = WorkshopDashboard(lab, library=Library(), steps=STEPS)
    yield board
    board.close()


def test_a_refresh_runs_in_a_thread_with_a_busy_line(dash):
    assert repr(dash) == (
        "Workshop dashboard for the practice cluster at https://127.0.0.1:6443: progress not read "
        "yet (press Refresh now)."
    )
    dash.library.gate.clear()  # the cluster is slow: the call must come back at once all the same
    assert dash.refresh()
    assert dash.running and "⏳ reading the progress of every learner" in dash.busy.value
    assert dash.refresh_button.disabled and dash.provision_button.disabled
    assert not dash.refresh()  # a second click while busy starts nothing
    dash.library.gate.set()
    dash.wait(10)
    assert not dash.running and dash.busy.value == "" and not dash.refresh_button.disabled
    assert repr(dash) == (
        "Workshop dashboard for the practice cluster at https://127.0.0.1:6443: 2 learner(s), 0 "
        "done, 1 stuck (refreshed 08:00:00 UTC)."
    )
    grid = dash.table.children[0]
    texts = [getattr(w, "value", None) for w in grid.children]
    assert any("learner10" in str(t) and "#fff3cd" in str(t) for t in texts)  # the stuck learner stands out
    assert "learner10 is stuck at install: install failed: boom. Fix (learner): run it again." in dash.stuck.value


def test_each_learner_has_a_reset_with_a_chosen_step(dash):
    dash.refresh()
    dash.wait(10)
    dropdowns = [w for w in dash._row_controls if hasattr(w, "options")]
    buttons = [w for w in dash._row_controls if hasattr(w, "on_click")]
    assert len(dropdowns) == len(buttons) == 2
    assert dropdowns[0].value == "helm-repo" and dropdowns[1].value == "install"  # where each is
    dropdowns[1].value = "prerequisites"
    buttons[1].click()
    dash.wait(10)
    assert ("reset", "learner10", "prerequisites") in dash.library.calls
    assert "learner10 reset to the start of step prerequisites" in dash.message_text


def test_provision_from_the_form_and_bad_names_said_at_once(dash):
    dash.names.value = "Ana"
    assert not dash.provision()
    assert "not a valid name" in dash.message_text and not dash.running
    dash.names.value = "ana.lopez, grace"
    dash.profile.value = "seed"
    dash.provision_button.click()
    dash.wait(10)
    assert dash.library.calls[0] == (
        "provision",
        ("ana.lopez", "grace"),
        {"profile": "seed", "allow_privileged": False, "force": False},
    )
    dash.mode.value = "count"
    assert dash.names.layout.display == "none" and dash.count.layout.display is None
    dash.count.value = 3
    dash.provision()
    dash.wait(10)
    assert (
        "provision",
        ("learner1", "learner2", "learner3"),
        {"profile": "seed", "allow_privileged": False, "force": False},
    ) in dash.library.calls
    with pytest.raises(UsageError):
        learner_names(names="")


def test_teardown_only_after_a_confirmation_naming_the_cluster_and_projects(dash):
    assert not dash.teardown(confirmed=True)  # nothing was asked yet
    assert ("teardown",) not in dash.library.calls
    dash.teardown_button.click()
    dash.wait(10)
    assert dash.confirmation.layout.display == "flex"
    assert (
        "Delete 3 project(s) of 2 learner(s) from the practice cluster at https://127.0.0.1:6443?"
        in dash.confirm_text.value
    )
    assert ("teardown",) not in dash.library.calls
    dash.cancel_button.click()
    assert dash.confirmation.layout.display == "none" and ("teardown",) not in dash.library.calls
    dash.teardown_button.click()
    dash.wait(10)
    dash.confirm_button.click()
    dash.wait(10)
    assert ("teardown",) in dash.library.calls
    assert "nothing of the workshop is left" in dash.message_text
