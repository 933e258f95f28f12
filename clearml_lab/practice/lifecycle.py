"""The practice node: what the scheduler and kubelet would do with a pod, as pure functions of data.

Durations, events, the pod's stages (scheduling, sandbox, deletion) and each container's (what ends a stage, what
comes next, what it shows) come from ``data/lifecycle.yaml``, run by the generic engine in ``stages.py``; what each
image needs under the security context SCC admission gave the pod (and what it does otherwise) comes from
``data/images/*.yaml``, in the image vocabulary the SCC planner shares (``clearml_lab.scc.images``).
``advance(pod, record, world)`` moves one pod as far as the clock allows and returns the new status, the events and
log lines of each transition, and when to look again. Nothing here runs a container.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..scc.images import parse_image
from ..timestamps import parse_rfc3339, rfc3339
from .conditions import set_condition
from .records import ContainerRecord, Exit, Outcome, PodRecord
from .stages import Machine, Stage, load_stages, load_transitions

_DATA = resources.files("clearml_lab.practice") / "data"


@functools.cache
def lifecycle_data() -> dict:
    return yaml.safe_load((_DATA / "lifecycle.yaml").read_text(encoding="utf-8"))


_USER_IMAGE_DOCS: list[dict] = []  # from `practice serve --images FILE`, checked by use_image_file


@functools.cache
def image_model() -> dict:
    """All image files merged: ``images`` (rules), ``unavailable`` (references that no longer pull), ``default``.
    Rules from a user's file (``use_image_file``) come first, so they win over the shipped ones."""
    model: dict = {"images": [], "unavailable": [], "default": {}}
    docs = []
    for path in sorted((_DATA / "images").iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            docs.append(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    for doc in [*_USER_IMAGE_DOCS, *docs]:
        model["images"] += doc.get("images") or []
        model["unavailable"] += doc.get("unavailable") or []
    for doc in [*docs, *_USER_IMAGE_DOCS]:
        model["default"].update(doc.get("default") or {})
    return model


# The image facts the SCC planner also reads (scc/data/image-requirements.yaml) are spelled as it spells them.
# A user's file in the spelling of before is still read: these keys are renamed at load.
OLD_SPELLINGS = {"user": "image_user", "uid": "needs_uid", "because": "why"}


def old_spellings(doc) -> list[str]:
    """Where an image file still uses a key of ``OLD_SPELLINGS`` (the shipped files must not)."""
    found = []
    if not isinstance(doc, dict):
        return found
    for kind in ("images", "unavailable"):
        for i, rule in enumerate(doc.get(kind) or [] if isinstance(doc.get(kind), list) else []):
            if not isinstance(rule, dict):
                continue
            found += [f"{kind}[{i}].{k}" for k in rule if k in OLD_SPELLINGS]
            for j, req in enumerate(rule.get("requires") or [] if isinstance(rule.get("requires"), list) else []):
                if isinstance(req, dict):
                    found += [f"{kind}[{i}].requires[{j}].{k}" for k in req if k in OLD_SPELLINGS]
    if isinstance(doc.get("default"), dict):
        found += [f"default.{k}" for k in doc["default"] if k in OLD_SPELLINGS]
    return found


def _current_spelling(doc):
    def renamed(mapping):
        return {OLD_SPELLINGS.get(k, k): v for k, v in mapping.items()} if isinstance(mapping, dict) else mapping

    if not isinstance(doc, dict):
        return doc
    out = dict(doc)
    for kind in ("images", "unavailable"):
        if isinstance(doc.get(kind), list):
            out[kind] = [renamed(rule) for rule in doc[kind]]
            for rule in out[kind]:
                if isinstance(rule, dict) and isinstance(rule.get("requires"), list):
                    rule["requires"] = [renamed(req) for req in rule["requires"]]
    if "default" in doc:
        out["default"] = renamed(doc["default"])
    return out


def image_file_problems(doc) -> list[str]:
    """What in a user's image file does not follow the schema of ``data/images/README.md`` (empty: it does)."""
    doc = _current_spelling(doc)
    if not isinstance(doc, dict):
        return ["the file must be a YAML mapping with `images`, `unavailable` and/or `default`"]
    problems = [
        f"unknown top-level key `{k}` (expected images, unavailable, default)"
        for k in doc
        if k not in ("images", "unavailable", "default")
    ]
    for kind in ("images", "unavailable"):
        rules = doc.get(kind) or []
        if not isinstance(rules, list):
            problems.append(f"`{kind}` must be a list of rules")
            continue
        for i, rule in enumerate(rules):
            where = f"{kind}[{i}]"
            if not isinstance(rule, dict):
                problems.append(f"{where} must be a mapping")
                continue
            repos = rule.get("repositories")
            if not isinstance(repos, list) or not repos or not all(isinstance(r, str) for r in repos):
                problems.append(f"{where}.repositories must be a list of image repositories")
            if not rule.get("source"):
                problems.append(f"{where}.source must say where its facts come from")
            if kind == "unavailable" and not isinstance(rule.get("error"), str):
                problems.append(f"{where}.error must be the pull error text")
            for key in ("image_user", "pull_seconds", "size_bytes", "ready_seconds"):
                if key in rule and not isinstance(rule[key], (int, float)):
                    problems.append(f"{where}.{key} must be a number")
            for j, req in enumerate(rule.get("requires") or []):
                if not isinstance(req, dict) or not ("needs_uid" in req or ("sysctl" in req and "at_least" in req)):
                    problems.append(f"{where}.requires[{j}] needs `needs_uid`, or `sysctl` with `at_least`")
                elif not isinstance(req.get("otherwise"), dict) or "exit_code" not in req["otherwise"]:
                    problems.append(f"{where}.requires[{j}].otherwise needs an `exit_code`")
    if "default" in doc and not isinstance(doc["default"], dict):
        problems.append("`default` must be a mapping")
    return problems


def use_image_file(path) -> None:
    """Extend the image model with a user's file in the shipped schema (``practice serve --images FILE``).
    Raises ValueError naming what is wrong."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path} cannot be read as YAML: {err}") from None
    problems = image_file_problems(doc)
    if problems:
        raise ValueError(f"{path} does not follow the image model's schema: {'; '.join(problems)}")
    _USER_IMAGE_DOCS.append(_current_spelling(doc))
    image_model.cache_clear()


# --- images --------------------------------------------------------------------------------------------------


def image_rule(image: str) -> dict:
    ref = parse_image(image)
    model = image_model()
    for rule in model["images"]:
        if ref.matches_any(rule.get("repositories")):
            return {**model["default"], **rule}
    return dict(model["default"])


def image_needs_uid(rule: dict) -> int | None:
    """The UID an image rule's ``requires`` insists on (None: any), as the planner's ``needs_uid``."""
    return next((int(req["needs_uid"]) for req in rule.get("requires") or [] if "needs_uid" in req), None)


def pull_error(image: str) -> str | None:
    ref = parse_image(image)
    for rule in image_model()["unavailable"]:
        if ref.matches_any(rule.get("repositories")) and ref.tag not in (rule.get("except_tags") or []):
            return rule["error"].format(reference=ref.reference, repository=ref.full_repository, tag=ref.tag)
    return None


def image_id(image: str) -> str:
    ref = parse_image(image)
    return f"{ref.full_repository}@sha256:{hashlib.sha256(ref.reference.encode()).hexdigest()}"


def go_duration(seconds: float) -> str:
    """Render like Go's time.Duration truncated to milliseconds: 412ms, 2.5s, 1m3.204s."""
    ms = int(round(seconds * 1000))
    if ms < 1000:
        return f"{ms}ms"
    minutes, ms = divmod(ms, 60_000)
    secs = f"{ms / 1000:.3f}".rstrip("0").rstrip(".")
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


# --- the world a pod sees ------------------------------------------------------------------------------------


@dataclass
class World:
    now: float
    scale: float
    node: str
    node_sysctls: dict[str, int]
    ready_services: set[tuple[str, str]] = field(default_factory=set)  # (namespace, service) with ready endpoints
    # (namespace, service) -> {"ip": cluster IP or None when headless, "ports": [port numbers]}
    services: dict[tuple[str, str], dict] = field(default_factory=dict)
    configmaps: dict[tuple[str, str], dict] = field(default_factory=dict)
    claims: dict[tuple[str, str], dict] = field(default_factory=dict)
    storage_classes: dict[str, dict] = field(default_factory=dict)
    storage_free: dict[str, int] = field(default_factory=dict)  # bytes a class can still provision
    images_present: set[str] = field(default_factory=set)
    pod_index: int = 0  # stable per pod; picks its IP


_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "m": 0.001,
}


def quantity(text) -> int:
    """Bytes in a Kubernetes quantity such as ``50Gi``, ``8Ti`` or ``1e9``."""
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not a quantity: {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def world_settings(settings: dict) -> tuple[str, dict[str, int]]:
    data = lifecycle_data()["node"]
    sysctls = {k: int(v) for k, v in (data.get("sysctls") or {}).items()}
    sysctls.update({k: int(v) for k, v in (settings.get("node_sysctls") or {}).items()})
    return settings.get("node_name") or data["name"], sysctls


def pod_ip(index: int) -> str:
    net = ipaddress.ip_network(lifecycle_data()["node"]["pod_network"])
    hosts = net.num_addresses - 12
    return str(net.network_address + 10 + index % hosts)


# --- what a container will do --------------------------------------------------------------------------------


def command_line(container: dict) -> str:
    return " ".join(
        shlex.quote(str(a)) if " " not in str(a) else str(a)
        for a in (container.get("command") or []) + (container.get("args") or [])
    )


def container_script(container: dict) -> str:
    """What the container runs as text: the SCRIPT of ``sh -c SCRIPT`` (lifecycle.yaml ``commands.shells``),
    else its command and args joined."""
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    shells = lifecycle_data()["commands"]["shells"]
    if argv and argv[0].rsplit("/", 1)[-1] in shells:
        for i, arg in enumerate(argv[1:-1], start=1):
            if re.fullmatch(r"-[a-z]*c[a-z]*", arg):
                return argv[i + 1]
    return command_line(container)


def simple_commands(script: str) -> list[list[str]]:
    """The script's simple commands as word lists: comment lines dropped, split at ; && || | and new lines. A
    splitter, not a shell: no expansion, no control flow."""
    commands = []
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                words = part.split()
            if words and words[0] == "exec":
                words = words[1:]
            if words:
                commands.append(words)
    return commands


def client_calls(container: dict) -> list[tuple[dict, str]]:
    """(client rule, URL) for each call to a known client (lifecycle.yaml ``commands.clients``) in what the
    container runs, in order."""
    clients = {c["program"]: c for c in lifecycle_data()["commands"].get("clients") or []}
    calls = []
    for words in simple_commands(container_script(container)):
        rule = clients.get(words[0].rsplit("/", 1)[-1])
        if rule is None:
            continue
        takes_value = set(rule.get("options_with_value") or [])
        skip = False
        for word in words[1:]:
            if skip:
                skip = False
            elif word in takes_value:
                skip = True
            elif not word.startswith("-"):
                calls.append((rule, word))
                break
    return calls


def _service_of(host: str, namespace: str) -> tuple[str, str] | None:
    """(namespace, service) a cluster DNS name stands for: svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local."""
    labels = host.lower().split(".")
    if len(labels) == 1:
        return namespace, labels[0]
    if len(labels) == 2 or labels[2:] in (["svc"], ["svc", "cluster", "local"]):
        return labels[1], labels[0]
    return None


def client_outcome(pod: dict, container: dict, world: World) -> Outcome | None:
    """What a container that runs clients (curl, wget) does: each call reaches its Service's endpoints; the first
    that fails ends the container with that client's exit code and message. None: the container runs no client."""
    calls = client_calls(container)
    if not calls:
        return None
    ns = pod["metadata"].get("namespace") or "default"
    seconds = 0.0
    for rule, url in calls:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        try:
            host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            continue
        seconds += float(rule.get("seconds", 0.3))
        if host in ("localhost", "127.0.0.1") or re.fullmatch(r"[\d.]+", host):
            continue  # addresses, not names: the model knows nothing about what answers there
        target = _service_of(host, ns)
        service = world.services.get(target) if target else None
        failure = None
        if service is None or (service.get("ip") is None and target not in world.ready_services):
            failure = "no_such_host"  # no Service, or a headless one without ready endpoints: no DNS answer
        elif service.get("ip") is not None and port not in service.get("ports", []):
            failure = "no_such_port"
        elif target not in world.ready_services:
            failure = "no_endpoints"
        if failure:
            fail = rule["failures"][failure]
            values = {"host": host, "port": port, "ip": (service or {}).get("ip") or ""}
            return Outcome(
                "crash",
                seconds=seconds + float(fail.get("after_seconds", 0)),
                exit_code=int(fail["exit_code"]),
                logs=[t.format(**values) for t in fail["logs"]],
            )
    return Outcome("complete", seconds=seconds)


def effective_uid(pod: dict, container: dict, rule: dict) -> int:
    for ctx in (container.get("securityContext") or {}, (pod.get("spec") or {}).get("securityContext") or {}):
        if ctx.get("runAsUser") is not None:
            return int(ctx["runAsUser"])
    return int(rule.get("image_user", 0))


def _setting_from_config(pod: dict, container: dict, world: World, path: str, name: str) -> Any:
    """Read ``name`` from the file at ``path`` if a ConfigMap is mounted there (whole directory or subPath)."""
    volumes = {v["name"]: v for v in (pod.get("spec") or {}).get("volumes") or []}
    directory, _, filename = path.rpartition("/")
    ns = pod["metadata"].get("namespace")
    for mount in container.get("volumeMounts") or []:
        source = (volumes.get(mount.get("name")) or {}).get("configMap")
        if not source:
            continue
        if mount.get("mountPath") == path:
            key = mount.get("subPath") or filename
        elif mount.get("mountPath", "").rstrip("/") == directory and not mount.get("subPath"):
            key = filename
        else:
            continue
        for item in source.get("items") or []:
            if item.get("path") == key:
                key = item["key"]
        text = ((world.configmaps.get((ns, source.get("name"))) or {}).get("data") or {}).get(key)
        if text is None:
            continue
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            continue
        if name in doc:
            return doc[name]
        node: Any = doc
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def _setting(pod: dict, container: dict, world: World, rule: dict, name: str, config_file: str | None) -> Any:
    if config_file:
        value = _setting_from_config(pod, container, world, config_file, name)
        if value is not None:
            return value
    for env in container.get("env") or []:
        if env.get("name") == name and "value" in env:
            return yaml.safe_load(str(env["value"]))
    return (rule.get("defaults") or {}).get(name)


def _unmet(pod: dict, container: dict, world: World, rule: dict, sysctls: dict[str, int]) -> tuple[dict, dict] | None:
    """The first requirement of the image this container does not meet, with the values for its messages."""
    for req in rule.get("requires") or []:
        if "needs_uid" in req:
            uid = effective_uid(pod, container, rule)
            if uid != int(req["needs_uid"]):
                return req, {"uid": uid}
        elif "sysctl" in req:
            unless = req.get("unless_setting")
            if (
                unless
                and _setting(pod, container, world, rule, unless["name"], unless.get("config_file")) == unless["equals"]
            ):
                continue
            value = sysctls.get(req["sysctl"], 0)
            if value < int(req["at_least"]):
                cluster = (
                    _setting(
                        pod, container, world, rule, "cluster.name", "/usr/share/elasticsearch/config/elasticsearch.yml"
                    )
                    or "docker-cluster"
                )
                return req, {"value": value, "minimum": req["at_least"], "cluster_name": cluster}
    return None


def plan_container(pod: dict, container: dict, *, init: bool, world: World, sysctls: dict[str, int]) -> Outcome:
    data = lifecycle_data()["commands"]
    rule = image_rule(container.get("image", ""))
    line = command_line(container)
    restart = (pod.get("spec") or {}).get("restartPolicy", "Always")

    match = re.search(data["sysctl_write"]["pattern"], line)
    if match:
        key, value = match.group(1), int(match.group(2))
        privileged = bool((container.get("securityContext") or {}).get("privileged"))
        if privileged:
            return Outcome("complete", seconds=data["sysctl_write"]["seconds"], sets_sysctls={key: value})
        failure = data["sysctl_write"]["unprivileged"]
        return Outcome(
            "crash",
            seconds=data["sysctl_write"]["seconds"],
            exit_code=failure["exit_code"],
            logs=[t.format(key=key) for t in failure["logs"]],
        )

    waits = data["wait_for_services"]
    if (init or restart != "Always") and re.search(waits["loop"], line):
        ns = pod["metadata"].get("namespace")
        targets: list[tuple[str, str]] = []
        for pattern in waits["hosts"]:
            for host, _port in re.findall(pattern, line):
                if host in waits["ignore_hosts"]:
                    continue
                labels = host.split(".")
                target = (labels[1] if len(labels) > 1 and labels[1] != "svc" else ns, labels[0])
                if target not in targets:
                    targets.append(target)
        if targets:
            return Outcome("wait", waits_for=targets, echo=re.findall(waits["echo"], line))

    client = client_outcome(pod, container, world)
    if client is not None:
        return client
    unmet = None if init else _unmet(pod, container, world, rule, sysctls)
    if unmet:
        req, values = unmet
        fail = req["otherwise"]
        return Outcome(
            "crash",
            seconds=fail.get("after_seconds", 1),
            exit_code=int(fail["exit_code"]),
            logs=[t.format(**values) for t in fail.get("logs") or []],
        )
    if init:
        return Outcome("complete", seconds=data["default_init_seconds"])
    if restart != "Always":
        return Outcome("complete", seconds=data["default_run_seconds"])
    probe = container.get("readinessProbe")
    ready = max(float(rule.get("ready_seconds", 0)), float(probe.get("initialDelaySeconds", 0))) if probe else 0.0
    return Outcome("serve", ready_seconds=ready)


# --- the state machine ---------------------------------------------------------------------------------------
# The record is the node's memory of one pod (records.PodRecord, kept by the kubelet controller, rebuilt from the
# status after a restart): the pod moves through lifecycle.yaml's pod_stages (with its pod_interrupts) and, in
# the `containers` stage, each container through container_stages, both run by stages.Machine with the
# conditions, effects, delays and anchors named there bound below.


@dataclass
class Step:
    status: dict
    record: PodRecord
    events: list[tuple[str, dict]] = field(default_factory=list)  # (event name in lifecycle.yaml, fields)
    logs: list[tuple[str, list[str]]] = field(default_factory=list)  # (container, lines)
    wake_at: float | None = None
    bind_node: bool = False  # the scheduler placed the pod: bind it (pods/<name>/binding)
    select_claims: list[str] = field(default_factory=list)  # WaitForFirstConsumer claims to mark for this node
    finished: bool = False  # a deleted pod's containers have stopped: remove it

    def wake(self, at: float) -> None:
        self.wake_at = at if self.wake_at is None else min(self.wake_at, at)


def _backoff(kind: str, count: int) -> float:
    b = lifecycle_data()["backoff"][kind]
    return float(min(b["initial"] * 2 ** max(0, count - 1), b["max"]))


class _OnTheNode:
    """What both stage machines' subjects share (stages.Subject): the world's clock, and the step that collects the
    wake-ups asked for."""

    world: World
    step: Step

    @property
    def now(self) -> float:
        return self.world.now

    @property
    def scale(self) -> float:
        return self.world.scale

    def wake(self, at: float) -> None:
        self.step.wake(at)


@dataclass
class Turn(_OnTheNode):
    """One container as the stage machine sees it: its record (``state``), its spec, the pod and the world."""

    pod: dict
    container: dict
    record: PodRecord
    state: ContainerRecord
    world: World
    step: Step
    init: bool
    sysctls: dict[str, int]

    @property
    def name(self) -> str:
        return self.container["name"]

    @property
    def image(self) -> str:
        return self.container.get("image", "")

    @property
    def restart_policy(self) -> str:
        return (self.pod.get("spec") or {}).get("restartPolicy", "Always")

    def emit(self, event: str, fields: dict) -> None:
        self.step.events.append((event, {"image": self.image, "container": self.name, **fields}))

    def log(self, lines: list[str]) -> None:
        self.step.logs.append((self.name, list(lines)))

    @property
    def pending_waits(self) -> list[int]:
        outcome = self.state.outcome
        return [i for i, t in enumerate(outcome.waits_for) if t not in self.world.ready_services]

    @property
    def exit_code(self) -> int:
        outcome = self.state.outcome
        return outcome.exit_code if outcome.kind == "crash" else 0


# Conditions (a transition's `when`).


def _image_present(t: Turn) -> bool:
    policy = t.container.get("imagePullPolicy") or (
        "Always" if parse_image(t.image).tag == "latest" else "IfNotPresent"
    )
    return policy != "Always" and (t.image in t.world.images_present or t.image in t.record.pulled)


def _restarts(t: Turn) -> bool:
    policy = t.restart_policy
    return policy == "Always" and not t.init or (policy != "Never" and t.exit_code != 0)


CONDITIONS = {
    "image_present": _image_present,
    "pull_fails": lambda t: pull_error(t.image) is not None,
    "waits_released": lambda t: t.state.outcome.kind == "wait" and not t.pending_waits,
    "waits_for_services": lambda t: t.state.outcome.kind == "wait",
    "serves": lambda t: t.state.outcome.kind == "serve",
    "restarts": _restarts,
    "exited_zero": lambda t: t.exit_code == 0,
}


# Effects (a transition's `effects`): they change the records and may add fields to the transition's events.


def _count_pull_failure(t: Turn) -> dict:
    t.state.pull_failures += 1
    t.state.error = pull_error(t.image) or ""
    return {"error": t.state.error}


def _remember_pull(t: Turn) -> dict:
    rule = image_rule(t.image)
    t.record.pulled.append(t.image)
    t.state.pull_failures = 0
    return {"pull": go_duration(float(rule.get("pull_seconds", 3))), "size": rule.get("size_bytes", 0)}


def _new_container_id(t: Turn) -> None:
    t.state.id = hashlib.sha256(f"{t.record.uid}/{t.name}/{t.state.restarts}".encode()).hexdigest()


def _start(t: Turn) -> None:
    c = t.state
    outcome = plan_container(t.pod, t.container, init=t.init, world=t.world, sysctls=t.sysctls)
    c.outcome, c.started_at = outcome, c.due
    c.ready_at = c.due + outcome.ready_seconds * t.scale if outcome.kind == "serve" else None
    if outcome.echo and len(outcome.echo) != len(outcome.waits_for):
        t.log(outcome.echo)


def _announce_wait(t: Turn) -> None:
    """The loops run in order: say what the first unanswered one echoes, once."""
    c, pending = t.state, t.pending_waits
    if len(c.outcome.echo) == len(c.outcome.waits_for) and pending[0] > c.announced:
        t.log([c.outcome.echo[pending[0]]])
        c.announced = pending[0]


def _wake_when_ready(t: Turn) -> None:
    if t.state.ready_at and t.now < t.state.ready_at:
        t.wake(t.state.ready_at)


def _exit(t: Turn) -> None:
    c = t.state
    code = t.exit_code
    if c.outcome.logs:
        t.log(c.outcome.logs)
    t.record.sysctls.update(c.outcome.sets_sysctls)
    c.exit = Exit(code, "Completed" if code == 0 else "Error", c.started_at, c.due, c.id)


def _restart(t: Turn) -> None:
    t.state.restarts += 1
    t.state.last, t.state.exit = t.state.exit, None


EFFECTS = {
    "count_pull_failure": _count_pull_failure,
    "remember_pull": _remember_pull,
    "new_container_id": _new_container_id,
    "start": _start,
    "announce_wait": _announce_wait,
    "wake_when_ready": _wake_when_ready,
    "exit": _exit,
    "restart": _restart,
}

# Delays other than lifecycle.yaml's `durations`, in unscaled seconds; anchors other than the stage's timer.
DELAYS = {
    "image_pull": lambda t: float(image_rule(t.image).get("pull_seconds", 3)),
    "backoff.image_pull": lambda t: _backoff("image_pull", t.state.pull_failures),
    "backoff.crash": lambda t: _backoff("crash", t.state.restarts + 1),
    "run": lambda t: t.state.outcome.seconds,
}
ANCHORS = {"now": lambda t: t.now, "started": lambda t: t.state.started_at}


@functools.cache
def container_machine() -> Machine:
    """lifecycle.yaml's container_stages with the names above bound; refuses a table that names anything unknown."""
    data = lifecycle_data()
    durations = {name: (lambda t, s=float(seconds): s) for name, seconds in data["durations"].items()}
    machine = Machine(
        load_stages(data["container_stages"]),
        CONDITIONS,
        EFFECTS,
        {**durations, **DELAYS},
        ANCHORS,
        frozenset(data["events"]),
        name="container_stages",
    )
    problems = machine.problems()
    if problems:
        raise ValueError(f"lifecycle.yaml container_stages: {'; '.join(problems)}")
    return machine


def stage(name: str) -> Stage:
    return container_machine().stages[name]


def _ends(c: ContainerRecord | None) -> str | None:
    """succeeded / failed for a container in a final stage, else None."""
    return stage(c.stage).extra.get("ends") if c else None


def _claims(pod: dict) -> list[str]:
    return [
        v["persistentVolumeClaim"]["claimName"]
        for v in (pod.get("spec") or {}).get("volumes") or []
        if v.get("persistentVolumeClaim")
    ]


def _scheduling_problem(pod: dict, world: World) -> tuple[str | None, dict, list[str]]:
    """(event name, fields, claims to select) — event None means the pod fits now."""
    ns = pod["metadata"].get("namespace")
    wait: list[str] = []
    wanted: dict[str, int] = {}
    for claim in _claims(pod):
        pvc = world.claims.get((ns, claim))
        if pvc is None:
            return "claim_not_found", {"claim": claim}, []
        if (pvc.get("status") or {}).get("phase") == "Bound":
            continue
        sc = world.storage_classes.get((pvc.get("spec") or {}).get("storageClassName") or "")
        if sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            wait.append(claim)
            request = ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0")
            cls = pvc["spec"]["storageClassName"]
            wanted[cls] = wanted.get(cls, 0) + quantity(request)
        else:
            return "unbound_immediate", {}, []
    # With storage capacity tracking the scheduler only picks a node whose published capacity fits the claims.
    if any(need > world.storage_free.get(cls, need) for cls, need in wanted.items()):
        return "not_enough_storage", {}, []
    return None, {}, wait


@dataclass
class PodTurn(_OnTheNode):
    """The pod as the stage machine sees it: its record (``state``), the pod and the world."""

    pod: dict
    state: PodRecord
    world: World
    step: Step

    @property
    def record(self) -> PodRecord:
        return self.state

    def emit(self, event: str, fields: dict) -> None:
        self.step.events.append((event, dict(fields)))

    @functools.cached_property
    def problem(self) -> tuple[str | None, dict, list[str]]:
        """What the scheduler finds (``_scheduling_problem``), once per look."""
        return _scheduling_problem(self.pod, self.world)


# The FailedScheduling events _scheduling_problem names; a condition newly_<name> holds while the pod has that
# problem and it was not the one reported last.
SCHEDULING_PROBLEMS = ("claim_not_found", "unbound_immediate", "not_enough_storage")


def _newly(name: str):
    return lambda p: p.problem[0] == name and p.record.unschedulable != name


POD_CONDITIONS = {
    "deleted": lambda p: bool(p.pod["metadata"].get("deletionTimestamp")),
    "names_node": lambda p: bool((p.pod.get("spec") or {}).get("nodeName")),
    **{f"newly_{name}": _newly(name) for name in SCHEDULING_PROBLEMS},
    "unschedulable": lambda p: p.problem[0] is not None,
    "claims_wait_for_node": lambda p: bool(p.problem[2]),
    "interface_event": lambda p: bool(lifecycle_data()["node"].get("interface_event")),
}


def _stop_containers(p: PodTurn) -> None:
    for name, c in p.record.containers.items():
        event = stage(c.stage).extra.get("on_delete")
        if event:
            p.emit(event, {"container": name})


def _placed(p: PodTurn) -> None:
    p.record.scheduled_at = p.now
    p.record.unschedulable, p.record.unschedulable_message = None, ""  # bound by someone else after we gave up


def _note_problem(p: PodTurn) -> dict:
    problem, fields, _ = p.problem
    p.record.unschedulable = problem
    p.record.unschedulable_message = lifecycle_data()["events"][problem]["message"].format(**fields)
    return fields


def _select_claims(p: PodTurn) -> None:
    ns = p.pod["metadata"].get("namespace")
    p.step.select_claims = [
        c
        for c in p.problem[2]
        if not (p.world.claims[(ns, c)]["metadata"].get("annotations") or {}).get("volume.kubernetes.io/selected-node")
    ]


def _fits(p: PodTurn) -> None:
    p.record.unschedulable, p.record.unschedulable_message = None, ""
    if p.record.schedule_due is None:
        p.record.schedule_due = p.now + lifecycle_data()["durations"]["schedule"] * p.scale


def _bind(p: PodTurn) -> dict:
    p.record.scheduled_at = p.record.schedule_due
    p.step.bind_node = True
    return {"node": p.world.node}


def _assign_ip(p: PodTurn) -> dict:
    p.record.ip = pod_ip(p.world.pod_index)
    return {"ip": p.record.ip}


def _run_containers(p: PodTurn) -> None:
    """The init containers in order, each only once the one before succeeded; then the containers."""
    pod, record, world, step = p.pod, p.record, p.world, p.step
    spec = pod.get("spec") or {}
    sysctls = dict(world.node_sysctls)
    sysctls.update(record.sysctls)
    for container in spec.get("initContainers") or []:
        c = advance_container(turn(pod, container, record, world, step, init=True, sysctls=sysctls))
        sysctls.update(record.sysctls)
        if _ends(c) != "succeeded":
            return
    for container in spec.get("containers") or []:
        advance_container(turn(pod, container, record, world, step, init=False, sysctls=sysctls))


def _finish(p: PodTurn) -> None:
    p.step.finished = True


POD_EFFECTS = {
    "stop_containers": _stop_containers,
    "placed": _placed,
    "note_problem": _note_problem,
    "select_claims": _select_claims,
    "fits": _fits,
    "bind": _bind,
    "assign_ip": _assign_ip,
    "run_containers": _run_containers,
    "finish": _finish,
}
POD_ANCHORS = {"now": lambda p: p.now, "schedule_due": lambda p: p.record.schedule_due}


@functools.cache
def pod_machine() -> Machine:
    """lifecycle.yaml's pod_stages and pod_interrupts with the names above bound; refuses a table that names
    anything unknown."""
    data = lifecycle_data()
    durations = {name: (lambda p, s=float(seconds): s) for name, seconds in data["durations"].items()}
    machine = Machine(
        load_stages(data["pod_stages"]),
        POD_CONDITIONS,
        POD_EFFECTS,
        durations,
        POD_ANCHORS,
        frozenset(data["events"]),
        interrupts=load_transitions(data.get("pod_interrupts"), "pod_interrupts"),
        name="pod_stages",
    )
    problems = machine.problems()
    if problems:
        raise ValueError(f"lifecycle.yaml pod_stages: {'; '.join(problems)}")
    return machine


def advance(pod: dict, record: PodRecord | None, world: World) -> Step:
    """Every transition of the pod (and, in its `containers` stage, of its containers) already due; the status
    they leave."""
    record = copy.deepcopy(record) if record else PodRecord(uid=pod["metadata"].get("uid"))
    step = Step(status={}, record=record)
    pod_machine().run(PodTurn(pod, record, world, step))
    step.status = render_status(pod, record, world)
    return step


def fire_pod_once(p: PodTurn) -> str:
    """One pod transition at most (the pod fixtures' unit): stages.WAITING, HELD, FINAL or MOVED."""
    return pod_machine().fire(p)


def turn(
    pod: dict, container: dict, record: PodRecord, world: World, step: Step, *, init: bool, sysctls: dict[str, int]
) -> Turn:
    """The container's record (a new one starts to pull now) with what the stage machine reads of its world."""
    c = record.containers.setdefault(container["name"], ContainerRecord(stage="pull", due=world.now))
    return Turn(pod, container, record, c, world, step, init, sysctls)


def advance_container(t: Turn) -> ContainerRecord:
    """Every transition of one container already due (a transition that waits for the world stops it)."""
    container_machine().run(t)
    return t.state


def fire_once(t: Turn) -> str:
    """One transition at most (the lifecycle fixtures' unit): stages.WAITING, HELD, FINAL or MOVED."""
    return container_machine().fire(t)


# --- rendering the status ------------------------------------------------------------------------------------


def _ts(t: float | None) -> str | None:
    return rfc3339(t) if t is not None else None


def _terminated(e: Exit) -> dict:
    return {
        "terminated": {
            "exitCode": e.exit_code,
            "reason": e.reason,
            "startedAt": _ts(e.started_at),
            "finishedAt": _ts(e.finished_at),
            "containerID": f"cri-o://{e.id}",
        }
    }


def container_status(
    pod: dict, container: dict, c: ContainerRecord | None, *, init: bool, initialized: bool, now: float
) -> dict:
    """containerStatuses[] (or initContainerStatuses[]) for one container, from its stage's `status` in
    lifecycle.yaml."""
    meta = pod["metadata"]
    image = container.get("image", "")
    status: dict = {
        "name": container["name"],
        "image": image,
        "imageID": "",
        "ready": False,
        "restartCount": c.restarts if c else 0,
        "started": False,
    }
    if not c or (not init and not initialized):
        status["state"] = {"waiting": {"reason": "PodInitializing"}}
        return status
    shows = stage(c.stage).status
    if c.pull_failures and "after_failed_pull" in shows:  # a retry still shows the last failure (lifecycle.yaml)
        shows = stage(shows["after_failed_pull"]).status
    if shows.get("image_id") != "after_restart" or c.restarts:
        status["imageID"] = image_id(image)
    if c.id:
        status["containerID"] = f"cri-o://{c.id}"
    if shows["state"] == "waiting":
        waiting = {"reason": shows.get("init_reason", shows["reason"]) if init else shows["reason"]}
        if "message" in shows:
            waiting["message"] = shows["message"].format(
                image=image,
                error=c.error,
                container=container["name"],
                pod=meta["name"],
                namespace=meta.get("namespace"),
                uid=meta.get("uid"),
                backoff=go_duration(_backoff("crash", c.restarts + 1)).replace("m0s", "m"),
            )
        status["state"] = {"waiting": waiting}
    elif shows["state"] == "running":
        status["state"] = {"running": {"startedAt": _ts(c.started_at)}}
        status["started"] = True
        status["ready"] = c.outcome.kind == "serve" and c.ready_at is not None and c.ready_at <= now
    else:
        status["state"] = _terminated(c.exit)
        status["ready"] = init and c.exit.exit_code == 0
    status["lastState"] = _terminated(c.last) if c.last else {}
    return status


def _qos(pod: dict) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    resources_ = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources_):
        return "BestEffort"
    for r in resources_:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        if set(limits) < {"cpu", "memory"} or any(requests.get(k, limits[k]) != limits[k] for k in limits):
            return "Burstable"
    return "Guaranteed"


def render_status(pod: dict, record: PodRecord, world: World) -> dict:
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    now = world.now
    conditions = [c for c in old.get("conditions") or []]
    status: dict = {"phase": "Pending", "qosClass": _qos(pod)}
    if record.unschedulable:
        status["conditions"] = set_condition(
            conditions, "PodScheduled", "False", "Unschedulable", record.unschedulable_message, now
        )
        for c in status["conditions"]:
            c.setdefault("lastProbeTime", None)
        return status
    if not record.scheduled_at:
        return dict(old, qosClass=status["qosClass"], phase=old.get("phase", "Pending"))
    status["startTime"] = old.get("startTime") or _ts(record.scheduled_at)
    host_ip = lifecycle_data()["node"]["ip"]
    status["hostIP"], status["hostIPs"] = host_ip, [{"ip": host_ip}]
    if record.ip:
        status["podIP"], status["podIPs"] = record.ip, [{"ip": record.ip}]
    inits = spec.get("initContainers") or []
    mains = spec.get("containers") or []
    recs = record.containers
    initialized = all(_ends(recs.get(c["name"])) == "succeeded" for c in inits)
    if inits:
        status["initContainerStatuses"] = [
            container_status(pod, c, recs.get(c["name"]), init=True, initialized=True, now=now) for c in inits
        ]
    status["containerStatuses"] = [
        container_status(
            pod, c, recs.get(c["name"]) if initialized else None, init=False, initialized=initialized, now=now
        )
        for c in mains
    ]
    main_ends = [_ends(recs.get(c["name"])) for c in mains] if initialized else []
    failed_init = any(_ends(recs.get(c["name"])) == "failed" for c in inits)
    if failed_init:
        status["phase"] = "Failed"
    elif main_ends and all(main_ends):
        status["phase"] = "Failed" if "failed" in main_ends else "Succeeded"
    elif main_ends and all(
        recs.get(c["name"]) is not None and (recs[c["name"]].started_at is not None or recs[c["name"]].restarts)
        for c in mains
    ):
        status["phase"] = "Running"

    unready = [s["name"] for s in status["containerStatuses"] if not s["ready"]]
    not_init = [c["name"] for c in inits if _ends(recs.get(c["name"])) != "succeeded"]
    completed = status["phase"] in ("Succeeded", "Failed")
    conditions = set_condition(conditions, "PodReadyToStartContainers", "True" if record.ip else "False", "", "", now)
    if not_init:
        conditions = set_condition(
            conditions,
            "Initialized",
            "False",
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(not_init)}]",
            now,
        )
    else:
        conditions = set_condition(
            conditions, "Initialized", "True", "PodCompleted" if completed and inits else "", "", now
        )
    if completed:
        ready = ("False", "PodCompleted", "")
    elif unready:
        ready = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    else:
        ready = ("True", "", "")
    conditions = set_condition(conditions, "Ready", *ready, now)
    conditions = set_condition(conditions, "ContainersReady", *ready, now)
    conditions = set_condition(conditions, "PodScheduled", "True", "", "", now)
    order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
    cleaned = []
    for c in sorted(conditions, key=lambda c: order.index(c["type"]) if c["type"] in order else 99):
        c = {k: v for k, v in c.items() if v != "" or k == "status"}
        c.setdefault("lastProbeTime", None)
        cleaned.append(c)
    status["conditions"] = cleaned
    return status


def event_text(name: str, pod: dict, fields: dict, world: World) -> tuple[str, str, str, str]:
    """(reason, message, type, component) of a lifecycle.yaml event about ``pod``."""
    spec = lifecycle_data()["events"][name]
    meta = pod["metadata"]
    values = {
        "namespace": meta.get("namespace"),
        "pod": meta["name"],
        "uid": meta.get("uid"),
        "node": world.node,
        **fields,
    }
    return spec["reason"], spec["message"].format(**values), spec.get("type", "Normal"), spec["component"]


def record_from_status(pod: dict) -> PodRecord | None:
    """What the node remembers of a pod it already ran before a restart: running containers stay running,
    anything else starts over from its image."""
    status = pod.get("status") or {}
    scheduled = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled" and c.get("status") == "True"),
        None,
    )
    if not scheduled or not status.get("podIP"):
        return None
    record = PodRecord(
        uid=pod["metadata"].get("uid"),
        stage="containers",  # it had its IP: its containers are where the node left them
        scheduled_at=parse_rfc3339(scheduled.get("lastTransitionTime")),
        ip=status["podIP"],
    )
    for init, key in ((True, "initContainerStatuses"), (False, "containerStatuses")):
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            c = ContainerRecord(stage="pull", restarts=cs.get("restartCount", 0))
            if "terminated" in state and init and state["terminated"].get("exitCode") == 0:
                t = state["terminated"]
                c.stage = "done"
                c.exit = Exit(
                    0,
                    "Completed",
                    parse_rfc3339(t.get("startedAt")),
                    parse_rfc3339(t.get("finishedAt")),
                    (t.get("containerID") or "").removeprefix("cri-o://"),
                )
            elif "running" in state and not init:
                started = parse_rfc3339(state["running"].get("startedAt")) or 0.0
                c.stage, c.started_at, c.outcome = "running", started, Outcome("serve")
                c.ready_at = started if cs.get("ready") else None
                c.id = (cs.get("containerID") or "").removeprefix("cri-o://")
            else:
                continue  # start this one over
            record.containers[cs["name"]] = c
    return record
