"""The stages of data/lifecycle.yaml as input/output pairs: for every container stage, tests/fixtures/lifecycle/
<stage>.yaml holds cases (a pod, the node's record of it, the world at a moment) and what one transition of the
engine makes of them (the result, the record after, the events and log lines, the wake-up asked for, the
container's status); for every pod stage, tests/fixtures/lifecycle/pod/<stage>.yaml holds the same for one
transition of the pod (with the scheduler's and the kubelet's flags and the pod's phase and conditions). A stage
without a pair, or a table naming what the code does not define, fails here."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from clearml_lab.practice.lifecycle import (
    PodTurn,
    Step,
    World,
    container_machine,
    container_status,
    event_text,
    fire_once,
    fire_pod_once,
    lifecycle_data,
    pod_machine,
    render_status,
    turn,
    world_settings,
)
from clearml_lab.practice.records import PodRecord
from clearml_lab.practice.stages import FINAL, HELD, MOVED, WAITING, load_stages, load_transitions

FIXTURES = Path(__file__).parent / "fixtures" / "lifecycle"
POD_FIXTURES = FIXTURES / "pod"


def _world(spec: dict) -> World:
    node, sysctls = world_settings(spec.get("settings") or {})
    return World(
        now=float(spec["now"]),
        scale=float(spec.get("scale", 1.0)),
        node=node,
        node_sysctls=sysctls,
        ready_services={tuple(s) for s in spec.get("ready_services") or []},
        services={tuple(k.split("/")): v for k, v in (spec.get("services") or {}).items()},
        images_present=set(spec.get("images_present") or []),
        claims={tuple(k.split("/")): v for k, v in (spec.get("claims") or {}).items()},
        storage_classes=spec.get("storage_classes") or {},
        storage_free=spec.get("storage_free") or {},
        pod_index=int(spec.get("pod_index", 0)),
    )


def _changes(before, after):
    """What differs in ``after`` (nested mappings compared key by key)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = [k for k in after if k not in before or before[k] != after[k]]
        return {k: _changes(before.get(k), after[k]) if k in before else after[k] for k in keys}
    return after


def run_case(case: dict) -> dict:
    """One transition of ``case["container"]``, and what it gives, in the fixtures' form (the record as what
    changed in it)."""
    pod, world = case["pod"], _world(case["world"])
    record = PodRecord.from_dict(case["record"])
    before = record.to_dict()
    step = Step(status={}, record=record)
    spec = next(
        c
        for c in (pod["spec"].get("initContainers") or []) + pod["spec"]["containers"]
        if c["name"] == case["container"]
    )
    sysctls = {**world.node_sysctls, **record.sysctls}
    result = fire_once(turn(pod, spec, record, world, step, init=case["init"], sysctls=sysctls))
    c = record.containers[case["container"]]
    return {
        "result": result,
        "stage": c.stage,
        "record_changes": _changes(before, record.to_dict()),
        "events": [list(event_text(name, pod, fields, world)[:2]) for name, fields in step.events],
        "logs": [[container, lines] for container, lines in step.logs],
        "wake": step.wake_at,
        "status": container_status(pod, spec, c, init=case["init"], initialized=True, now=world.now),
    }


def _pod_status(status: dict) -> dict:
    """The pod's phase, IP and conditions (type: [status, reason, message], empty ones left out)."""
    shown = {"phase": status["phase"]}
    if "podIP" in status:
        shown["podIP"] = status["podIP"]
    if "conditions" in status:
        shown["conditions"] = {
            c["type"]: [c[k] for k in ("status", "reason", "message") if c.get(k)] for c in status["conditions"]
        }
    return shown


def run_pod_case(case: dict) -> dict:
    """One transition of the pod, and what it gives, in the fixtures' form."""
    pod, world = case["pod"], _world(case["world"])
    record = PodRecord.from_dict(case["record"])
    before = record.to_dict()
    step = Step(status={}, record=record)
    result = fire_pod_once(PodTurn(pod, record, world, step))
    return {
        "result": result,
        "stage": record.stage,
        "record_changes": _changes(before, record.to_dict()),
        "events": [list(event_text(name, pod, fields, world)[:2]) for name, fields in step.events],
        "logs": [[container, lines] for container, lines in step.logs],
        "wake": step.wake_at,
        "bind_node": step.bind_node,
        "select_claims": step.select_claims,
        "finished": step.finished,
        "status": _pod_status(render_status(pod, record, world)),
    }


def _cases(directory=FIXTURES):
    for path in sorted(directory.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            yield pytest.param(path.stem, case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize("stage, case", list(_cases()))
def test_one_transition_gives_what_the_pair_says(stage, case):
    assert case["record"]["containers"][case["container"]]["stage"] == stage, "a pair lives in its stage's file"
    assert run_case(case) == case["expect"]


@pytest.mark.parametrize("stage, case", list(_cases(POD_FIXTURES)))
def test_one_pod_transition_gives_what_the_pair_says(stage, case):
    assert case["record"]["stage"] == stage, "a pair lives in its stage's file"
    assert run_pod_case(case) == case["expect"]


@pytest.mark.parametrize("table, directory", [("container_stages", FIXTURES), ("pod_stages", POD_FIXTURES)])
def test_every_declared_stage_has_a_pair_and_every_pair_a_stage(table, directory):
    declared = set(lifecycle_data()[table])
    paired = {p.stem for p in directory.glob("*.yaml")}
    assert declared - paired == set(), f"write {directory}/<stage>.yaml for these stages"
    assert paired - declared == set(), f"these fixture files name no stage of lifecycle.yaml's {table}"


def test_the_pairs_reach_every_kind_of_result():
    results = {case["expect"]["result"] for _, case in (p.values for p in _cases())}
    assert results == {MOVED, HELD, WAITING, FINAL}
    pod_results = {case["expect"]["result"] for _, case in (p.values for p in _cases(POD_FIXTURES))}
    assert pod_results == {MOVED, HELD, WAITING}  # no pod stage is final: a deleted pod is removed


def test_the_pod_pairs_take_every_interrupt():
    """Each interrupt of the pod table (its own and its stages') fires in at least one pair."""
    taken = set()
    for stage, case in (p.values for p in _cases(POD_FIXTURES)):
        if case["expect"]["result"] == MOVED:
            taken.add((stage, case["expect"]["stage"]))
    machine = pod_machine()
    for t in machine.interrupts:
        assert any(to == t.to for _, to in taken), f"no pair is interrupted into {t.to}"
    for stage in machine.stages.values():
        for t in stage.interrupts:
            assert (stage.name, t.to) in taken, f"no pair leaves {stage.name} for {t.to}"


def test_the_table_names_only_what_the_code_defines():
    assert container_machine().problems() == []
    assert pod_machine().problems() == []
    broken = dict(lifecycle_data()["container_stages"])
    broken["pull"] = {"transitions": [{"when": "image_is_shiny", "to": "nowhere", "delay": "a_while"}]}
    problems = dataclasses.replace(container_machine(), stages=load_stages(broken)).problems()
    assert problems == [
        "container_stages.pull: no stage `nowhere`",
        "container_stages.pull: no condition `image_is_shiny`",
        "container_stages.pull: no delay `a_while`",
    ]
    broken = dict(lifecycle_data()["pod_stages"])
    broken["sandbox"] = {"interrupts": [{"when": "cable_unplugged", "effects": ["panic"], "to": "schedule"}]}
    interrupts = load_transitions([{"when": "deleted", "events": ["vanished"], "to": "gone"}], "pod_interrupts")
    problems = dataclasses.replace(pod_machine(), stages=load_stages(broken), interrupts=interrupts).problems()
    assert problems == [
        "pod_stages interrupts: no stage `gone`",
        "pod_stages interrupts: no event `vanished`",
        "pod_stages.sandbox interrupts: no condition `cable_unplugged`",
        "pod_stages.sandbox interrupts: no effect `panic`",
    ]
