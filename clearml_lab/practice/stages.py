"""A stage machine declared as data, in the manner of KWOK's Stage resources: each stage names its transitions;
the first whose condition holds fires once the stage's timer has run out, applies its effects, emits its events
and moves the subject to the next stage after a delay. The engine knows no stage, condition or effect by name:
the caller supplies them (``lifecycle.py`` for the pod's containers, ``data/lifecycle.yaml`` for the table)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Subject(Protocol):
    """What the engine moves: its ``state`` carries ``stage`` and ``due``; ``now`` and ``scale`` are the clock."""

    state: Any
    now: float
    scale: float

    def emit(self, event: str, fields: dict) -> None: ...

    def wake(self, at: float) -> None: ...


@dataclass(frozen=True)
class Transition:
    to: str | None = None  # None: stay in the stage and stop (the subject waits for the world)
    when: str | None = None  # a condition's name; None: always
    effects: tuple[str, ...] = ()  # named changes to the subject, in order; each may add event fields
    events: tuple[str, ...] = ()  # event names, emitted after the effects
    delay: str | None = None  # a duration's or a delay's name; None: the next stage is due at once
    since: str = "due"  # what the delay counts from: an anchor's name ("due": the stage's timer)


@dataclass(frozen=True)
class Stage:
    name: str
    transitions: tuple[Transition, ...] = ()
    timer: bool = True  # False: no timer; the transitions are looked at whenever the subject is
    status: Mapping = field(default_factory=dict)  # what the subject shows in this stage (read by the caller)
    extra: Mapping = field(default_factory=dict)  # anything else the table says about it (read by the caller)


# fire() results
WAITING, HELD, FINAL, MOVED = "waiting", "held", "final", "moved"

_TRANSITION_KEYS = {"to", "when", "effects", "events", "delay", "since"}


def load_stages(table: Mapping) -> dict[str, Stage]:
    stages = {}
    for name, spec in table.items():
        transitions = []
        for t in spec.get("transitions") or []:
            unknown = set(t) - _TRANSITION_KEYS
            if unknown:
                raise ValueError(f"stage {name}: unknown transition keys {sorted(unknown)}")
            transitions.append(
                Transition(
                    to=t.get("to"),
                    when=t.get("when"),
                    effects=tuple(t.get("effects") or ()),
                    events=tuple(t.get("events") or ()),
                    delay=t.get("delay"),
                    since=t.get("since", "due"),
                )
            )
        extra = {k: v for k, v in spec.items() if k not in ("transitions", "timer", "status")}
        stages[name] = Stage(name, tuple(transitions), bool(spec.get("timer", True)), spec.get("status") or {}, extra)
    return stages


@dataclass(frozen=True)
class Machine:
    """A stage table with the names it uses bound to functions of the subject."""

    stages: Mapping[str, Stage]
    conditions: Mapping[str, Callable[[Any], bool]]
    effects: Mapping[str, Callable[[Any], dict | None]]
    delays: Mapping[str, Callable[[Any], float]]  # unscaled seconds
    anchors: Mapping[str, Callable[[Any], float]]  # absolute times
    events: frozenset = frozenset()

    def problems(self) -> list[str]:
        """Names the table uses that nothing defines (empty: the machine is complete)."""
        found = []
        for stage in self.stages.values():
            for t in stage.transitions:
                where = f"container_stages.{stage.name}"
                if t.to is not None and t.to not in self.stages:
                    found.append(f"{where}: no stage `{t.to}`")
                if t.when is not None and t.when not in self.conditions:
                    found.append(f"{where}: no condition `{t.when}`")
                found += [f"{where}: no effect `{e}`" for e in t.effects if e not in self.effects]
                found += [f"{where}: no event `{e}`" for e in t.events if e not in self.events]
                if t.delay is not None and t.delay not in self.delays:
                    found.append(f"{where}: no delay `{t.delay}`")
                if t.since != "due" and t.since not in self.anchors:
                    found.append(f"{where}: no anchor `{t.since}`")
        return found

    def fire(self, subject) -> str:
        """At most one transition: WAITING (the timer runs; a wake-up is asked for), HELD (a transition without a
        next stage matched), FINAL (the stage has no transitions) or MOVED."""
        state = subject.state
        stage = self.stages[state.stage]
        if not stage.transitions:
            return FINAL
        if stage.timer and state.due is not None and subject.now < state.due:
            subject.wake(state.due)
            return WAITING
        for t in stage.transitions:
            if t.when is not None and not self.conditions[t.when](subject):
                continue
            fields: dict = {}
            for effect in t.effects:
                fields.update(self.effects[effect](subject) or {})
            for event in t.events:
                subject.emit(event, fields)
            if t.to is None:
                return HELD
            start = state.due if t.since == "due" else self.anchors[t.since](subject)
            state.stage = t.to
            if not self.stages[t.to].timer:
                state.due = None
            elif t.delay is not None:
                state.due = start + self.delays[t.delay](subject) * subject.scale
            return MOVED
        return HELD

    def run(self, subject, limit: int = 64) -> str:
        """Fire every transition already due (bounded: a table whose stages loop without a delay stops here)."""
        result = MOVED
        for _ in range(limit):
            result = self.fire(subject)
            if result != MOVED:
                break
        return result
