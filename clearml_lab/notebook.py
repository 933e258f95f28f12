"""What the notebooks call: a few short functions over the library and the widgets.

The target and settings chosen in notebook 00 are saved in the lab's home (``session.yaml``), so every later
notebook — each its own kernel — acts on the same cluster and project. Environment variables override them for
test runs (CLEARML_LAB_CHART_VERSION, CLEARML_LAB_PROFILE, CLEARML_LAB_NAMESPACE).

One live view per output: a widget is displayed with its text snapshot (``widget.text``, sentences) as the
text/plain of the same output bundle, so nbval compares what the learner saw and JupyterLab shows only the live
widget — nothing is printed beside a widget that could go stale. A wait shows a temporary live line (what is
ready, what is awaited, elapsed), closed when the wait ends.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

import ipywidgets as widgets
import kubernetes.config
import yaml
from IPython.display import display

from . import coverage, progress, steps
from . import diagnose as diagnosis
from .equivalents import with_equivalent
from .errors import LabError
from .lab import PROFILES, Lab, connect
from .oc import add_scc_to_user
from .paths import lab_home
from .steps.base import StepResult
from .steps.routes import admitted_host, service_names
from .steps.scc import compute_plan, rendered_manifests, seed_recipe_review
from .values_layers import layers, learner_values, leaves
from .widgets import CardOutcome, PlanTable, StepCard, TopologyView
from .widgets._html import badge
from .workshop_mode import follow, record_step, seat_or_none

ENV_OVERRIDES = {
    "chart_version": "CLEARML_LAB_CHART_VERSION",
    "profile": "CLEARML_LAB_PROFILE",
    "namespace": "CLEARML_LAB_NAMESPACE",
}
TARGETS = ("practice", "kubeconfig", "in-cluster")


def _session_file():
    return lab_home() / "session.yaml"


def saved_choice() -> dict:
    path = _session_file()
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def choose(
    target: str = "practice",
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    chart_version: str | None = None,
    profile: str | None = None,
) -> Lab:
    """Pick the cluster and settings for all notebooks; connects first, so nothing invalid is saved."""
    choice = {
        "target": target,
        "kubeconfig": kubeconfig,
        "context": context,
        "namespace": namespace,
        "chart_version": chart_version,
        "profile": profile,
    }
    lab = _connect(choice)
    remember(**choice)
    return lab


def _connect(choice: dict) -> Lab:
    """The lab for a saved choice; in a workshop project, the chart version and profile nobody chose are the
    workshop's (see workshop_mode)."""
    settings = {key: os.environ.get(env) or choice.get(key) for key, env in ENV_OVERRIDES.items()}
    target = choice.get("target", "practice")
    lab = connect(
        kubeconfig=choice.get("kubeconfig") if target == "kubeconfig" else None,
        context=choice.get("context") if target == "kubeconfig" else None,
        in_cluster=target == "in-cluster",
        overrides=choice.get("overrides"),
        **settings,
    )
    chosen = {f"{key}_chosen": bool(value) for key, value in settings.items()}
    return follow(lab, **chosen)


def remember(**changes) -> None:
    """Save changed settings (e.g. the profile chosen in notebook 03) for the notebooks that follow."""
    choice = {**saved_choice(), **changes}
    path = _session_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({k: v for k, v in choice.items() if v is not None}))


def session(quiet: bool = False) -> Lab:
    """The lab as notebook 00 chose it (the practice cluster if nothing was chosen); says where it acts."""
    lab = _connect(saved_choice())
    if not quiet:
        s = lab.settings
        chart = s.chart_version or (lab.pinned_chart() or {}).get("version") or "newest that fits (chosen at step 01)"
        print(f"Acting on {lab.describe()} — chart {chart}, profile {s.profile}.")
        values_link(lab)
        seat = seat_or_none(lab)
        if seat:
            print(seat.banner())
    return lab


def show(widget, text: str | None = None) -> None:
    """Display a widget whose text/plain is its text snapshot (``text``, else ``widget.text``) — one bundle, one
    live view; never ``VBox(children=…``."""
    bundle = dict(widget._repr_mimebundle_())
    bundle["text/plain"] = widget.text if text is None else text
    display(bundle, raw=True)


class Waiting:
    """A temporary live line while the kernel waits: displayed with a fixed text/plain (so a recorded run does not
    depend on how long the wait took), updated at least every second, closed when the wait ends."""

    def __init__(self, what: str):
        self.line = widgets.HTML()
        self.ticker = progress.Ticker(what, lambda text: setattr(self.line, "value", badge("RUNNING", text)))
        self.scope = progress.reporting(self.ticker.report)

    def __enter__(self):
        show(self.line, "")
        self.ticker.__enter__()
        self.scope.__enter__()
        return self

    def __exit__(self, *exc):
        self.scope.__exit__(*exc)
        self.ticker.__exit__(*exc)
        self.line.close()


def card(step_name: str, lab: Lab):
    """Display a step card (explanation, commands, buttons)."""
    widget = StepCard(steps.get(step_name), lab)
    show(widget)
    return widget


def run_for_me(widget) -> None:
    """What the "Run it for me" button does, from code: run, then check. The card above shows the progress and
    the results; this cell shows one line that follows the card (its text/plain: the results)."""
    widget.run_it_for_me()
    widget.wait()
    outcome = CardOutcome(widget)
    show(outcome)


def run(step_name: str, lab: Lab, action: str = "run", *, detail: bool = False):
    """Run (or undo) one step from code with a live line while it works; prints its result once: the first line
    (badge and summary), or with ``detail`` everything it says."""
    step = steps.get(step_name)
    with Waiting(f"{action} {step_name}"):
        result = getattr(step, action)(lab)
    if action == "run":  # in a workshop project, what the learner tried is kept for the instructor (#17)
        record_step(lab, result)
    text = result.render_text()
    print(text if detail or not result.ok else text.splitlines()[0])
    return result


def check(step_name: str, lab: Lab, timeout: float = 120) -> None:
    """The closing check of a notebook, like a workshop examiner: PASS or FAIL with the fix, printed once (it
    returns nothing, so the cell shows no stray `True` after it)."""
    with Waiting(f"check {step_name}"):
        result = steps.get(step_name).check(lab, timeout=timeout)
    print(result.render_text())


def topology(lab: Lab):
    """The live topology view of the project (updates while displayed; call .close() to stop)."""
    view = TopologyView(lab).start()
    show(view)
    return view


def target_picker():
    """Notebook 00's chooser: the practice cluster, a context of your kubeconfig, or in-cluster (a workbench)."""
    options = [("practice cluster (local, simulated)", ("practice", None))]
    try:
        contexts, _ = kubernetes.config.list_kube_config_contexts()
        options += [(f"kube context {c['name']}", ("kubeconfig", c["name"])) for c in contexts]
    except Exception:  # no kubeconfig of the user's: the practice cluster and in-cluster remain
        pass
    options.append(("in-cluster (JupyterLab inside OpenShift)", ("in-cluster", None)))
    saved = saved_choice()
    current = next(
        (value for _, value in options if value == (saved.get("target", "practice"), saved.get("context"))),
        options[0][1],
    )
    dropdown = widgets.Dropdown(options=options, value=current, description="Target")
    # A workshop hands each learner a kubeconfig file; naming it here is the same as `nb.choose("kubeconfig", ...)`.
    chosen_file = saved.get("kubeconfig") if saved.get("target") == "kubeconfig" and not saved.get("context") else None
    file = widgets.Text(
        value=chosen_file or "", placeholder="or a kubeconfig file, e.g. ada.kubeconfig", description="File"
    )
    apply = widgets.Button(description="Use this target", button_style="primary")
    message = widgets.HTML()

    def on_apply(_):
        target, context = dropdown.value
        try:
            if file.value.strip():
                lab = choose("kubeconfig", kubeconfig=str(Path(file.value.strip()).expanduser().resolve()))
            else:
                lab = choose(target, context=context, kubeconfig=os.environ.get("KUBECONFIG") if context else None)
            message.value = escape(f"✅ acting on {lab.describe()}")
            seat = seat_or_none(lab)
            if seat:
                message.value += "<br>" + escape(seat.banner())
        except Exception as err:  # shown to the learner as one sentence
            message.value = escape(f"❌ {err}")

    apply.on_click(on_apply)
    box = widgets.VBox([widgets.HBox([dropdown, apply]), file, message])
    box.file, box.apply, box.message = file, apply, message  # for code (and tests) that drive the picker
    box.text = (
        f"Target: kubeconfig file {chosen_file}"
        if chosen_file
        else f"Target: {dict((v, k) for k, v in options)[current]}"
    )
    show(box)
    return box


def values_link(lab: Lab) -> Path | None:
    """In JupyterLab, ``values.yaml`` beside the notebook links to this project's values file, so the file browser
    shows it and a learner can edit it there (a file of that name the learner made is never replaced)."""
    notebook = os.environ.get("JPY_SESSION_NAME")  # set by the Jupyter server for a notebook's kernel
    if not notebook:
        return None
    link, target = Path(notebook).parent / "values.yaml", lab.values_file
    try:
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return link
        if link.exists() and not link.is_symlink():
            return None
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    except OSError:  # a read-only folder: the path in the form's text still says where the file is
        return None
    return link


def values_form(lab: Lab):
    """Notebook 03's form: the profile and your values (YAML) — the ones you typed here before and the ones you
    changed in values.yaml by hand. Writing keeps exactly these as yours, on top of the profile and its fixes."""
    try:
        yours = learner_values(lab)
        problem = ""
    except LabError as err:  # values.yaml does not parse: say so, and never overwrite it from here
        yours, problem = dict(lab.settings.overrides or {}), str(err)
    profile = widgets.Dropdown(options=PROFILES, value=lab.settings.profile, description="Profile")
    overrides = widgets.Textarea(
        value=yaml.safe_dump(yours, sort_keys=False) if yours else "",
        placeholder="your values, e.g.\nfileserver:\n  storage:\n    data:\n      size: 20Gi",
        layout=widgets.Layout(width="60%", height="100px"),
    )
    write = widgets.Button(description="Write values.yaml", button_style="primary")
    link = values_link(lab)
    where = widgets.HTML(
        f'<small>The file: <a href="{escape(link.name)}" target="_blank">values.yaml</a> '
        f"(beside this notebook in the file browser)</small>"
        if link
        else f"<small>The file: <code>{escape(str(lab.values_file))}</code></small>"
    )
    result = widgets.HTML(f"❌ {escape(problem)}" if problem else "")

    def on_write(_):
        try:
            extra = yaml.safe_load(overrides.value or "") or {}
            if not isinstance(extra, dict):
                raise ValueError("your values must be a mapping of keys")
            chosen = lab.with_settings(profile=profile.value, overrides=extra)
            text = layers(chosen, form=extra).text()  # the form's values replace the earlier ones as a whole
            chosen.values_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = chosen.values_file.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(chosen.values_file)
            outcome = steps.get("values").run(chosen)
            remember(profile=profile.value, overrides=extra or None)
            lab.settings = chosen.settings  # the step card below acts with what the form chose
            result.value = "<pre>" + escape(outcome.render_text()) + "</pre>"
        except (ValueError, yaml.YAMLError) as err:
            result.value = f"❌ your values: {escape(str(err))}"
        except LabError as err:
            result.value = f"❌ {escape(str(err))}"

    write.on_click(on_write)
    box = widgets.VBox([profile, overrides, write, where, result])
    box.profile, box.overrides, box.write, box.result = profile, overrides, write, result  # for code and tests
    keys = leaves(yours) if yours else []
    box.text = f"Profile: {lab.settings.profile}; your values: {', '.join(keys) if keys else 'none'}."
    show(box)
    return box


def plan_table(lab: Lab):
    """Notebook 04: the computed SCC plan, one button per grant, and the seed recipe's grants judged."""
    manifests = rendered_manifests(lab)
    plan = compute_plan(lab, manifests)

    def apply(grant):
        created, line = add_scc_to_user(lab.kube(), grant.scc, grant.service_account, lab.namespace, namespaced=True)
        return StepResult("scc", "run", True, line, changed=created)

    table = PlanTable(plan, on_apply=apply)
    show(table)
    print("\nThe seed recipe's four grants, judged against this chart:")
    for review in seed_recipe_review(lab, manifests):
        if review.verdict != "missing":
            print(f"- {review.grant.scc} for {review.grant.service_account}: {review.verdict}. {review.reason}")
    return table


def route_links(lab: Lab) -> None:
    """Notebook 06: the routes as clickable links."""
    routes = {r["metadata"]["name"]: r for r in lab.kube().list("routes", lab.namespace).get("items", [])}
    lines = []
    for name in service_names(lab):
        host = admitted_host(routes.get(name, {}))
        lines.append((name, f"http://{host}" if host else None))
    html = (
        "<ul>"
        + "".join(
            f'<li>{n}: <a href="{u}" target="_blank">{u}</a></li>' if u else f"<li>{n}: not admitted yet</li>"
            for n, u in lines
        )
        + "</ul>"
    )
    display({"text/html": html, "text/plain": "\n".join(f"{n}: {u or 'not admitted yet'}" for n, u in lines)}, raw=True)


def diagnose(lab: Lab) -> list:
    """Notebook 10: what is wrong in the project, in plain words, with the step that fixes it — and every workload
    no known problem names, with what its pods tell (ready, starting, or admitted but bound to fail)."""
    with Waiting("diagnose: reading events, pods and logs"):
        found = diagnosis.gather(lab.kube(), lab.namespace)
        rest = coverage.workloads(lab.kube(), lab.namespace, found)
    for d in found:
        print(f"- {with_equivalent(d.render())}  (step: {d.step})")
    for verdict in rest:
        print(f"- {verdict.render()}")
    if not found and not rest:
        print(f"No workloads in project {lab.namespace} yet, and no known problem.")
    return found + [v for v in rest if v.ok is False]


def warnings(lab: Lab, reason: str | None = None, limit: int = 10) -> None:
    """The project's warning events (optionally of one reason), as `oc get events` shows them."""
    items = lab.kube().list("events", lab.namespace).get("items", [])
    shown = [e for e in items if e.get("type") == "Warning" and (reason is None or e.get("reason") == reason)]
    for event in sorted(shown, key=lambda e: (e["involvedObject"].get("name", ""), e.get("message", "")))[:limit]:
        obj = event["involvedObject"]
        print(f"{event['reason']} {obj.get('kind', '').lower()}/{obj.get('name')}: {event.get('message')}")
