"""The container stages of data/lifecycle.yaml as input/output pairs: for every stage, tests/fixtures/lifecycle/
<stage>.yaml holds cases (a pod, the node's record of it, the world at a moment) and what one transition of the
engine makes of them (the result, the record after, the events and log lines, the wake-up asked for, the
container's status). A stage without a pair, or a table naming what the code does not define, fails here."""

from pathlib import Path

import pytest
import yaml

from clearml_lab.practice.lifecycle import (
    Step,
    World,
    container_machine,
    container_status,
    event_text,
    fire_once,
    lifecycle_data,
    turn,
    world_settings,
)
from clearml_lab.practice.records import PodRecord
from clearml_lab.practice.stages import FINAL, HELD, MOVED, WAITING, Machine, load_stages

FIXTURES = Path(__file__).parent / "fixtures" / "lifecycle"


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


def _cases():
    for path in sorted(FIXTURES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            yield pytest.param(path.stem, case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize("stage, case", list(_cases()))
def test_one_transition_gives_what_the_pair_says(stage, case):
    assert case["record"]["containers"][case["container"]]["stage"] == stage, "a pair lives in its stage's file"
    assert run_case(case) == case["expect"]


def test_every_declared_stage_has_a_pair_and_every_pair_a_stage():
    declared = set(lifecycle_data()["container_stages"])
    paired = {p.stem for p in FIXTURES.glob("*.yaml")}
    assert declared - paired == set(), "write tests/fixtures/lifecycle/<stage>.yaml for these stages"
    assert paired - declared == set(), "these fixture files name no stage of lifecycle.yaml"


def test_the_pairs_reach_every_kind_of_result():
    results = {case["expect"]["result"] for _, case in (p.values for p in _cases())}
    assert results == {MOVED, HELD, WAITING, FINAL}


def test_the_table_names_only_what_the_code_defines():
    assert container_machine().problems() == []
    broken = dict(lifecycle_data()["container_stages"])
    broken["pull"] = {"transitions": [{"when": "image_is_shiny", "to": "nowhere", "delay": "a_while"}]}
    m = container_machine()
    problems = Machine(load_stages(broken), m.conditions, m.effects, m.delays, m.anchors, m.events).problems()
    assert problems == [
        "container_stages.pull: no stage `nowhere`",
        "container_stages.pull: no condition `image_is_shiny`",
        "container_stages.pull: no delay `a_while`",
    ]
