"""The widgets, driven as a learner would: buttons clicked programmatically, state and output asserted."""

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_topology import sample_objects  # pytest puts tests/ on sys.path

from clearml_lab import topology
from clearml_lab.errors import LabError
from clearml_lab.kube import Kube
from clearml_lab.steps.base import Check, Step, StepResult
from clearml_lab.widgets import PlanTable, StepCard, TopologyView
from clearml_lab.widgets.topology_view import COLOUR_NAMES, KIND_BADGES, colour_sentence, legend_html

LAB = SimpleNamespace(namespace="clearml", api_client=None, describe=lambda: "a test lab")


@dataclass
class MarkerStep(Step):
    """Writes a marker file; waits on `gate` inside run() so a test can look at the card mid-action."""

    name: str = "marker"
    title: str = "Write the marker"
    explanation: str = "Creates `marker.txt`.\n\nThen checks it."
    path: Path = None
    gate: threading.Event = None
    runs: int = 0
    fail_with: Exception | None = None

    def commands(self, lab):
        return [f"touch {self.path}"]

    def run(self, lab, on_line=None):
        self.runs += 1
        if self.fail_with:
            raise self.fail_with
        on_line(f"writing {self.path.name}")
        if self.gate:
            assert self.gate.wait(10)
        self.path.write_text("ok")
        on_line("done")
        return StepResult(self.name, "run", True, "The marker is written.", changed=True, output=("wrote 2 bytes",))

    def check(self, lab, timeout=60):
        there = self.path.exists()
        return StepResult(
            self.name,
            "check",
            there,
            "The marker exists." if there else "The marker is missing.",
            checks=(Check("marker file", there, str(self.path.name), fix="press Run"),),
            fix=None if there else "press Run",
        )

    def undo(self, lab, on_line=None):
        self.path.unlink(missing_ok=True)
        return StepResult(self.name, "undo", True, "The marker is removed.", changed=True)


def test_run_disables_every_button_and_ignores_further_clicks(tmp_path):
    step = MarkerStep(path=tmp_path / "marker.txt", gate=threading.Event())
    card = StepCard(step, LAB)
    assert card.text == f"Write the marker\n$ touch {step.path}\n(not run yet)"
    assert "acts on a test lab" in card.title.value
    card.buttons["run"].click()
    assert card.busy and all(b.disabled for b in card.buttons.values())
    assert "RUNNING" in card.progress.value and card.badge.value == ""
    card.buttons["run"].click()  # a double click while running
    card.buttons["run_it_for_me"].click()
    step.gate.set()
    result = card.wait(10)
    assert step.runs == 1
    assert card.progress.value == ""  # the live line is gone once the action ended
    assert not card.busy and not any(b.disabled for b in card.buttons.values())
    assert result is card.last_result and result.ok and result.action == "run"
    assert step.path.read_text() == "ok"
    assert card.lines == ["writing marker.txt", "done"]
    assert "writing marker.txt\ndone" in card.output.value
    assert "PASS" in card.badge.value and "The marker is written." in card.badge.value
    assert card.text.endswith("[PASS] marker run: The marker is written.\n  wrote 2 bytes")


def test_a_displayed_card_carries_its_text_as_text_plain_and_the_outcome_line_follows_it(tmp_path):
    from clearml_lab.widgets import CardOutcome

    step = MarkerStep(path=tmp_path / "marker.txt")
    card = StepCard(step, LAB)
    bundle = card._repr_mimebundle_()
    assert bundle["text/plain"] == card.text and "VBox" not in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle
    outcome = CardOutcome(card)
    assert repr(outcome) == "marker: not run yet." and outcome.value == ""
    card.run_it_for_me()
    card.wait(10)
    assert repr(outcome) == "\n".join(r.render_text() for r in card.results)
    assert outcome.value.count('data-badge="PASS"') == 2
    card.undo()
    card.wait(10)  # the line follows the card: never the stale PASS of the earlier action
    assert "[PASS] marker undo: The marker is removed." == repr(outcome)
    assert outcome.value.count("data-badge") == 1 and "</span> undo" in outcome.value


def test_nothing_to_undo_is_neutral_not_pass():
    result = StepResult("verify", "undo", True, "nothing to undo: this step only reads.", neutral=True)
    assert result.badge == "INFO" and result.render_text().startswith("[INFO] verify undo")
    assert StepResult("x", "undo", False, "failed.", neutral=True).badge == "FAIL"


def test_progress_ticker_shows_the_last_line_with_elapsed_time_and_stops():
    from clearml_lab import progress

    shown = []
    ticker = progress.Ticker("install", shown.append, tick=0.01)
    with ticker, progress.reporting(ticker.report):
        progress.report("2/7 pods ready; waiting for Deployment/clearml-apiserver 0/1")
        assert _wait_for(lambda: len(shown) >= 4)  # re-shown by the ticker without a new report
    count = len(shown)
    progress.report("after the block: nobody listens")
    assert shown[-1].startswith("install — 2/7 pods ready; waiting for Deployment/clearml-apiserver 0/1 (")
    threading.Event().wait(0.05)
    assert len(shown) == count


def test_run_it_for_me_runs_then_checks(tmp_path):
    step = MarkerStep(path=tmp_path / "marker.txt")
    card = StepCard(step, LAB)
    card.buttons["run_it_for_me"].click()
    card.wait(10)
    assert [r.action for r in card.results] == ["run", "check"]
    assert card.last_result.ok and card.last_result.summary == "The marker exists."
    assert "run: The marker is written." in card.badge.value and "check: The marker exists." in card.badge.value


def test_check_and_undo_show_fail_with_fix(tmp_path):
    step = MarkerStep(path=tmp_path / "marker.txt")
    step.path.write_text("old")
    card = StepCard(step, LAB)
    card.buttons["undo"].click()
    assert card.wait(10).ok and not step.path.exists()
    card.buttons["check"].click()
    result = card.wait(10)
    assert not result.ok and result.badge == "FAIL"
    assert "FAIL" in card.badge.value and "press Run" in card.badge.value
    assert card.text.splitlines()[-2:] == ["  ❌ marker file: marker.txt — fix: press Run", "  fix: press Run"]


def test_run_it_for_me_stops_after_a_failed_run(tmp_path):
    step = MarkerStep(path=tmp_path / "marker.txt", fail_with=LabError("helm is not installed: run `make lab`."))
    card = StepCard(step, LAB)
    card.run_it_for_me()
    card.wait(10)
    assert [(r.action, r.ok) for r in card.results] == [("run", False)]
    assert card.last_result.summary == "helm is not installed: run `make lab`."
    assert "FAIL" in card.badge.value and not card.busy


def test_unexpected_exception_is_shown_not_lost(tmp_path):
    step = MarkerStep(path=tmp_path / "marker.txt", fail_with=KeyError("spec"))
    card = StepCard(step, LAB)
    card.run()
    result = card.wait(10)
    assert not result.ok and "KeyError" in result.summary and "bug" in result.fix
    assert not any(b.disabled for b in card.buttons.values())


def test_explanation_is_escaped_html_with_code():
    step = MarkerStep(explanation="Use `oc get pods` <b>now</b>.\n\nSecond.", path=Path("/nonexistent"))
    card = StepCard(step, LAB)
    assert card.explanation.value == "<p>Use <code>oc get pods</code> &lt;b&gt;now&lt;/b&gt;.</p><p>Second.</p>"


# -- PlanTable ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuckGrant:
    scc: str
    service_account: str
    reason: str
    command: str


def test_plan_table_applies_one_grant_per_button():
    plan = [
        DuckGrant("anyuid", "clearml-mongodb", "runs as UID 1001", "oc adm policy add-scc-to-user anyuid -z m"),
        DuckGrant("privileged", "clearml-elastic", "sets vm.max_map_count", "oc adm policy ... -z e"),
    ]
    applied = []

    def on_apply(grant):
        applied.append(grant)
        if grant.scc == "privileged":
            raise LabError("you may not grant privileged: ask a cluster administrator.")
        return StepResult("scc", "run", True, f"granted {grant.scc} to {grant.service_account}")

    table = PlanTable(plan, on_apply)
    assert table.text.splitlines() == [
        "anyuid -> clearml-mongodb: runs as UID 1001 [not applied]",
        "privileged -> clearml-elastic: sets vm.max_map_count [not applied]",
    ]
    table.apply_buttons[0].click()
    table.apply_buttons[0].click()  # already applied: ignored
    table.apply_buttons[1].click()
    assert applied == plan
    assert table.apply_buttons[0].disabled and table.apply_buttons[0].description == "Applied"
    assert not table.apply_buttons[1].disabled  # a failed grant may be retried
    assert "granted anyuid to clearml-mongodb" in table.result_html[0].value
    assert "FAIL" in table.result_html[1].value
    assert table.text.splitlines()[1].endswith("[FAIL you may not grant privileged: ask a cluster administrator.]")


def test_plan_table_reads_the_planner_plan():
    from clearml_lab.scc.planner import plan_grants

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "db", "namespace": "clearml"},
        "spec": {
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "serviceAccountName": "db",
                    "containers": [{"name": "db", "image": "example.com/db:1", "securityContext": {"runAsUser": 0}}],
                },
            },
        },
    }
    plan = plan_grants([deployment], namespace="clearml")
    table = PlanTable(plan, on_apply=lambda grant: None)
    assert [(r.scc, r.service_account) for r in table.rows] == [(g.scc, g.service_account) for g in plan.grants()]
    assert table.rows, "a pod that runs as root needs a grant"
    assert table.rows[0].command == plan.grants()[0].command("clearml") and table.rows[0].reason
    table.apply_buttons[0].click()
    assert table.outcomes[0] == (True, "applied")

    # Once the grant exists (made here, or by a workshop's instructor), the table says what is already there.
    granted = plan_grants(
        [deployment], namespace="clearml", existing_grants=[(g.scc, g.service_account) for g in plan.grants()]
    )
    done = PlanTable(granted, on_apply=lambda grant: None)
    assert (
        done.rows == []
        and done.text == f"Nothing left to grant: this project already has {plan.grants()[0].scc} to db."
    )


def test_plan_table_without_grants():
    table = PlanTable([], on_apply=lambda grant: None)
    assert table.text == "The plan needs no SCC grants." and table.apply_buttons == []


# -- TopologyView with scripted watch streams (the live test against the practice cluster is in tests/live) --


class ScriptedWatch:
    """Stands in for kube.Watch: yields what the test puts in its queue until close()."""

    def __init__(self):
        self.events = queue.Queue()

    def __iter__(self):
        while (event := self.events.get()) is not None:
            yield event

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.events.put(None)


class ScriptedKube(Kube):
    """A Kube that talks to no cluster: lists from `objects`, one ScriptedWatch per watch call; records both."""

    def __init__(self, objects):
        super().__init__(api_client=None)
        self.objects, self.lists, self.watches = objects, [], {}

    def list(self, resource, namespace=None, **query):
        self.lists.append(resource)
        return {"metadata": {"resourceVersion": "7"}, "items": self.objects[resource]}

    def watch(self, resource, namespace=None, *, resource_version=None, timeout_seconds=60, **query):
        assert resource_version == "7"  # from the list, not from the start of time
        self.watches[resource] = ScriptedWatch()
        return self.watches[resource]


@pytest.fixture
def scripted_cluster():
    objects = sample_objects()
    return objects, ScriptedKube(objects)


def _wait_for(predicate, timeout=10):
    done = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        done.wait(0.02)
    return predicate()


def test_topology_view_updates_from_watch_events_and_stops_on_close(scripted_cluster):
    objects, kube = scripted_cluster
    view = TopologyView(SimpleNamespace(namespace="clearml", kube=lambda: kube))
    assert kube.lists == list(topology.KINDS)  # one list per kind
    assert view.svg == topology.to_svg(topology.build(objects, "clearml"))
    assert view.text.splitlines()[0] == "namespace clearml: 1 of 4 workloads ready"
    assert view._repr_mimebundle_()["text/plain"] == view.text  # the snapshot travels with the live picture
    view.start()
    assert _wait_for(lambda: len(kube.watches) == len(topology.KINDS))
    web = dict(objects["deployments"][0])
    web["spec"] = {**web["spec"], "replicas": 3}
    kube.watches["deployments"].events.put({"type": "MODIFIED", "object": web})
    assert _wait_for(lambda: "deployment/web 2/3" in view.text)
    assert 'data-state="not_created" data-count="1"' in view.svg and view.picture.value == view.svg
    kube.watches["deployments"].events.put({"type": "DELETED", "object": web})
    assert _wait_for(lambda: "deployment/web" not in view.text)
    assert kube.lists == list(topology.KINDS)  # events, not re-lists
    threads = view.live.threads()
    assert all(t.is_alive() for t in threads)
    view.close()
    assert not any(t.is_alive() for t in threads) and not view.watching


def test_without_oc_each_oc_command_on_the_card_comes_with_its_kubectl_equivalent(tmp_path, monkeypatch):
    @dataclass
    class OcStep(MarkerStep):
        def commands(self, lab):
            return ["oc new-project clearml", "helm repo update"]

    monkeypatch.setattr("shutil.which", lambda name: None)
    card = StepCard(OcStep(path=tmp_path / "m"), LAB)
    lines = card.text.splitlines()
    assert lines[1] == "$ oc new-project clearml"
    assert lines[2].startswith("  (no oc here: $ echo ") and '"kind":"ProjectRequest"' in lines[2]
    assert lines[3] == "$ helm repo update" and "(no oc here" not in "\n".join(lines[3:])
    assert "ProjectRequest" in card.commands_html.value
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    assert "(no oc here" not in StepCard(OcStep(path=tmp_path / "m"), LAB).text


def test_the_legend_names_every_colour_and_badge_the_picture_draws():
    svg = topology.to_svg(topology.build(sample_objects(), "clearml"))
    assert set(topology.STATE_COLOURS.values()) <= set(COLOUR_NAMES)  # a new colour needs a name first
    for badge, colour, kind in KIND_BADGES:
        assert f'fill="{colour}"' in svg and f">{badge}</text>" in svg, (badge, kind)
        assert f">{badge}</span>{kind}" in legend_html()
    assert colour_sentence().startswith(f"{COLOUR_NAMES[topology.STATE_COLOURS['running']]} running, ")
    assert all(topology.STATE_LABELS[s] in colour_sentence() for s in topology.STATES)


def test_a_wait_in_a_notebook_shows_a_temporary_live_line_with_a_fixed_text_plain_and_closes_it(monkeypatch):
    from clearml_lab import notebook, progress

    shown = []
    monkeypatch.setattr(notebook, "display", lambda bundle, raw=False: shown.append(bundle))
    with notebook.Waiting("check install") as waiting:
        progress.report("3/7 pods ready; waiting for Deployment/clearml-apiserver 0/1")
        assert _wait_for(lambda: "waiting for Deployment/clearml-apiserver 0/1" in waiting.line.value)
        assert 'data-badge="RUNNING"' in waiting.line.value and "check install — " in waiting.line.value
    assert len(shown) == 1 and shown[0]["text/plain"] == ""  # the same recorded text however long the wait took
    assert "application/vnd.jupyter.widget-view+json" in shown[0]
    assert waiting.line.comm is None  # closed: the front end removes it


def test_widgets_displayed_by_the_notebook_functions_carry_their_text_not_their_repr(monkeypatch, tmp_path):
    from clearml_lab import notebook

    shown = []
    monkeypatch.setattr(notebook, "display", lambda bundle, raw=False: shown.append(bundle))
    card = StepCard(MarkerStep(path=tmp_path / "m"), LAB)
    notebook.show(card)
    assert shown[-1]["text/plain"] == card.text
    notebook.run_for_me(card)  # what the cell does: run and check, then one line that follows the card
    assert [r.action for r in card.results] == ["run", "check"]
    assert shown[-1]["text/plain"] == "\n".join(r.render_text() for r in card.results)
    assert not any("VBox(" in b["text/plain"] or "HTML(" in b["text/plain"] for b in shown)


def test_a_diagnosis_fix_ending_in_an_oc_command_gets_its_kubectl_equivalent_without_oc(monkeypatch):
    from clearml_lab.equivalents import with_equivalent

    fix = "Fix: run the scc step, or: oc adm policy add-scc-to-user anyuid -z clearml-apiserver -n lab1"
    monkeypatch.setattr("shutil.which", lambda name: None)
    said = with_equivalent(fix)
    assert said.startswith(fix + " (no oc here: $ kubectl create rolebinding system:openshift:scc:anyuid ")
    assert "--serviceaccount=lab1:clearml-apiserver -n lab1" in said
    assert with_equivalent("Fix: run the scc step.") == "Fix: run the scc step."
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/oc")
    assert with_equivalent(fix) == fix
