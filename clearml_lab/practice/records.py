"""The node's memory of a pod: what the kubelet controller keeps between two looks at it (in memory, per pod UID;
rebuilt from the pod's status after a restart by ``lifecycle.record_from_status``), and what a container will do
once started. Plain dataclasses; ``to_dict``/``from_dict`` give the YAML form the lifecycle fixtures use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class Outcome:
    """What a started container does, decided once when it starts (``lifecycle.plan_container``)."""

    kind: str  # serve | complete | crash | wait
    seconds: float = 0.0  # simulated seconds from start to exit (complete, crash)
    exit_code: int = 0
    logs: list[str] = field(default_factory=list)
    ready_seconds: float = 0.0  # serve: start → Ready
    waits_for: list[tuple[str, str]] = field(default_factory=list)  # (namespace, service), in order
    echo: list[str] = field(default_factory=list)
    sets_sysctls: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Outcome:
        data = dict(data)
        data["waits_for"] = [tuple(t) for t in data.get("waits_for") or []]
        return cls(**data)


@dataclass
class Exit:
    """One run's end, as containerStatuses[].state.terminated shows it."""

    exit_code: int
    reason: str  # Completed | Error
    started_at: float
    finished_at: float
    id: str | None = None  # the container ID (without cri-o://)


@dataclass
class ContainerRecord:
    """Where one container is in ``lifecycle.yaml``'s container_stages."""

    stage: str = "pull"
    due: float | None = None  # when the stage's timer runs out (None: the stage has no timer)
    restarts: int = 0
    pull_failures: int = 0  # failed pulls in a row
    error: str = ""  # the last pull error
    id: str | None = None  # container ID of the current run
    started_at: float | None = None
    ready_at: float | None = None
    outcome: Outcome | None = None
    announced: int = -1  # the last wait whose echo was logged
    exit: Exit | None = None  # how the current run ended
    last: Exit | None = None  # how the run before ended (lastState)

    @classmethod
    def from_dict(cls, data: dict) -> ContainerRecord:
        data = dict(data)
        if data.get("outcome") is not None:
            data["outcome"] = Outcome.from_dict(data["outcome"])
        for key in ("exit", "last"):
            if data.get(key) is not None:
                data[key] = Exit(**data[key])
        return cls(**data)


@dataclass
class PodRecord:
    """The node's memory of one pod: its own stage, and each of its containers'."""

    uid: str | None = None
    stage: str = "schedule"  # where the pod is in ``lifecycle.yaml``'s pod_stages
    due: float | None = None  # when the stage's timer runs out (None: the stage has no timer)
    schedule_due: float | None = None  # when the scheduler places it, set when it first fits
    scheduled_at: float | None = None
    ip: str | None = None
    unschedulable: str | None = None  # the FailedScheduling event name while it does not fit
    unschedulable_message: str = ""
    sysctls: dict[str, int] = field(default_factory=dict)  # set by its privileged `sysctl -w` containers
    pulled: list[str] = field(default_factory=list)  # images this pod pulled
    containers: dict[str, ContainerRecord] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict) -> PodRecord:
        data = dict(data)
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown pod record fields: {sorted(unknown)}")
        data["containers"] = {name: ContainerRecord.from_dict(c) for name, c in (data.get("containers") or {}).items()}
        return cls(**data)


def _plain(value):
    """Tuples as lists, so the dict form survives a YAML round trip unchanged."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
