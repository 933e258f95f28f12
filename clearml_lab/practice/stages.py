"""A stage machine declared as data, in the manner of KWOK's Stage resources: each stage names its transitions;
the first whose condition holds fires once the stage's timer has run out, applies its effects, emits its events
and moves the subject to the next stage after a delay. Interrupts are transitions looked at before the timer: the
machine's own in every stage (a pod's deletion), a stage's own in that stage. The engine knows no stage, condition
or effect by name: the caller supplies them (``lifecycle.py`` for a pod and for its containers,
``data/lifecycle.yaml`` for the tables)."""

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
    delay: str | None = None  # a duration's or a delay's name; None: the next stage is due at `since`
    since: str = "due"  # what the delay counts from: an anchor's name ("due": the stage's timer, so at once)


@dataclass(frozen=True)
class Stage:
    name: str
    transitions: tuple[Transition, ...] = ()
    timer: bool = True  # False: no timer; the transitions are looked at whenever the subject is
    status: Mapping = field(default_factory=dict)  # what the subject shows in this stage (read by the caller)
    extra: Mapping = field(default_factory=dict)  # anything else the table says about it (read by the caller)
    interrupts: tuple[Transition, ...] = ()  # looked at before the timer and the transitions, whenever the subject is


# fire() results
WAITING, HELD, FINAL, MOVED = "waiting", "held", "final", "moved"

_TRANSITION_KEYS = {"to", "when", "effects", "events", "delay", "since"}


def load_transitions(specs, where: str) -> tuple[Transition, ...]:
    transitions = []
    for t in specs or []:
        unknown = set(t) - _TRANSITION_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown transition keys {sorted(unknown)}")
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
    return tuple(transitions)


def load_stages(table: Mapping) -> dict[str, Stage]:
    stages = {}
    for name, spec in table.items():
        extra = {k: v for k, v in spec.items() if k not in ("transitions", "timer", "status", "interrupts")}
        stages[name] = Stage(
            name,
            load_transitions(spec.get("transitions"), f"stage {name}"),
            bool(spec.get("timer", True)),
            spec.get("status") or {},
            extra,
            load_transitions(spec.get("interrupts"), f"stage {name} interrupts"),
        )
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
    interrupts: tuple[Transition, ...] = ()  # looked at first in every stage that has transitions
    name: str = "stages"  # the table's name in what problems() reports

    def problems(self) -> list[str]:
        """Names the table uses that nothing defines (empty: the machine is complete)."""
        places = [(f"{self.name} interrupts", t) for t in self.interrupts]
        for stage in self.stages.values():
            places += [(f"{self.name}.{stage.name} interrupts", t) for t in stage.interrupts]
            places += [(f"{self.name}.{stage.name}", t) for t in stage.transitions]
        found = []
        for where, t in places:
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
        next stage matched), FINAL (the stage has no transitions) or MOVED. Interrupts come first, timer or not:
        the machine's, then the stage's; one that leads to the stage the subject is in is passed over."""
        state = subject.state
        stage = self.stages[state.stage]
        if not stage.transitions:
            return FINAL
        for t in (*self.interrupts, *stage.interrupts):
            if t.to != state.stage and self._holds(t, subject):
                return self._take(t, subject)
        if stage.timer and state.due is not None and subject.now < state.due:
            subject.wake(state.due)
            return WAITING
        for t in stage.transitions:
            if self._holds(t, subject):
                return self._take(t, subject)
        return HELD

    def _holds(self, t: Transition, subject) -> bool:
        return t.when is None or self.conditions[t.when](subject)

    def _take(self, t: Transition, subject) -> str:
        """Apply the transition's effects, emit its events, move to its next stage."""
        state = subject.state
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
        else:
            state.due = start
        return MOVED

    def run(self, subject, limit: int = 64) -> str:
        """Fire every transition already due (bounded: a table whose stages loop without a delay stops here)."""
        result = MOVED
        for _ in range(limit):
            result = self.fire(subject)
            if result != MOVED:
                break
        return result
