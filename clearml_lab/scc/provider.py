"""One SCC applied to one pod: fill in its defaults, then check every field (apiserver-library-go's provider).

``Provider.assign(pod)`` mutates a copy the way OpenShift does and returns it with the list of field errors.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass

from .fielderrors import FieldError, go_capabilities, go_int64s, go_value

SECCOMP_POD = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER = "container.seccomp.security.alpha.kubernetes.io/"
UID_RANGE = "openshift.io/sa.scc.uid-range"
MCS = "openshift.io/sa.scc.mcs"
SUPPLEMENTAL_GROUPS = "openshift.io/sa.scc.supplemental-groups"

# Sysctls Kubernetes treats as namespaced and safe (kubelet's safe allowlist).
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


class NamespaceNotReady(Exception):
    """The namespace lacks the annotations admission needs; str() is OpenShift's text."""


def parse_block(text: str) -> tuple[int, int]:
    """'1000680000/10000' or '1000680000-1000689999' -> (first, last), as library-go's uid.ParseBlock reads them."""
    separator, form = ("/", "<start>/<size>") if "/" in text else ("-", "<start>-<end>")
    parts = text.split(separator, 1)
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f'block not in the format "{form}"')
    first, second = (int(part) for part in parts)
    if separator == "/":
        if second == 0:
            raise ValueError("block size must be a positive integer")
        return first, first + second - 1
    if first > second:
        raise ValueError("block start must be less than or equal to block end")
    return first, second


class ProviderError(Exception):
    """An SCC that cannot be configured for this namespace (bad or empty allocation annotations)."""


@dataclass(frozen=True)
class Allocation:
    """The per-namespace annotations OpenShift's cluster-policy-controller writes, parsed when an SCC needs them."""

    namespace: str
    annotations: tuple[tuple[str, str], ...]

    @classmethod
    def from_namespace(cls, namespace_obj: dict) -> Allocation:
        meta = namespace_obj.get("metadata") or {}
        name = meta.get("name", "")
        annotations = meta.get("annotations") or {}
        for key in (UID_RANGE, MCS):  # admission waits for both, then gives up
            if key not in annotations:
                raise NamespaceNotReady(f'error fetching namespace "{name}": unable to find annotation {key}')
        return cls(name, tuple(sorted((k, str(v)) for k, v in annotations.items())))

    def _get(self, key: str) -> str | None:
        return dict(self.annotations).get(key)

    @property
    def uid_range(self) -> tuple[int, int]:
        value = self._get(UID_RANGE)
        if not value:
            raise ValueError(f"found annotation {UID_RANGE} but it was empty")
        return parse_block(value)

    @property
    def mcs(self) -> str:
        value = self._get(MCS)
        if not value:
            raise ValueError(f"found annotation {MCS} but it was empty")
        return value

    @property
    def group_blocks(self) -> list[tuple[int, int]]:
        """supplemental-groups, falling back to uid-range; several blocks may be comma-separated."""
        value = self._get(SUPPLEMENTAL_GROUPS)
        if value is None:
            value = self._get(UID_RANGE)
        if not value:
            raise ValueError(f"unable to find groups using {SUPPLEMENTAL_GROUPS} and {UID_RANGE} annotations")
        return [parse_block(part) for part in value.split(",")]


def _levels_equal(a: str | None, b: str | None) -> bool:
    """SELinux levels compare by sensitivity and the *set* of categories (s0:c26,c15 == s0:c15,c26)."""
    if a == b:
        return True
    if not a or not b:
        return False
    sens_a, _, cats_a = a.partition(":")
    sens_b, _, cats_b = b.partition(":")
    return sens_a == sens_b and set(cats_a.split(",")) == set(cats_b.split(","))


def seccomp_from_field(profile: dict | None) -> str:
    if not profile:
        return ""
    kind = profile.get("type")
    if kind == "Unconfined":
        return "unconfined"
    if kind == "RuntimeDefault":
        return "runtime/default"
    if kind == "Localhost" and profile.get("localhostProfile"):
        return "localhost/" + profile["localhostProfile"]
    return ""


def _field_from_seccomp(profile: str) -> dict | None:
    if profile in ("runtime/default", "docker/default"):
        return {"type": "RuntimeDefault"}
    if profile == "unconfined":
        return {"type": "Unconfined"}
    if profile.startswith("localhost/"):
        return {"type": "Localhost", "localhostProfile": profile[len("localhost/") :]}
    return None


def volume_type(volume: dict) -> str:
    for key in volume:
        if key != "name":
            return key
    return "none"


def containers_of(spec: dict):
    """(path segment, container) in the order admission visits them."""
    for key in ("initContainers", "ephemeralContainers", "containers"):
        for index, container in enumerate(spec.get(key) or []):
            yield f".{key}[{index}]", container


def working_copy(pod: dict) -> dict:
    """A copy that admission can change without touching the input: every dict it replaces is copied."""
    copied = dict(pod)
    copied["metadata"] = dict(pod.get("metadata") or {})
    spec = copied["spec"] = dict(pod.get("spec") or {})
    for key in ("initContainers", "ephemeralContainers", "containers"):
        if spec.get(key):
            spec[key] = [dict(container) for container in spec[key]]
    return copied


class Provider:
    """An SCC resolved against a namespace: UID range, SELinux level and group ranges filled in."""

    def __init__(self, scc: dict, allocation: Allocation, *, plain_slices: bool = False):
        self.scc = scc
        self.plain_slices = plain_slices  # how slice values print in messages (release-dependent)
        self.name = scc["metadata"]["name"]
        self.prefix = f"provider {self.name}: "
        self.run_as_user = dict(scc.get("runAsUser") or {"type": "RunAsAny"})
        if (
            self.run_as_user.get("type") == "MustRunAsRange"
            and self.run_as_user.get("uidRangeMin") is None
            and self.run_as_user.get("uidRangeMax") is None
        ):
            with self._preallocated("uid", allocation):
                self.run_as_user["uidRangeMin"], self.run_as_user["uidRangeMax"] = allocation.uid_range
        self.selinux = copy.deepcopy(scc.get("seLinuxContext") or {"type": "RunAsAny"})
        if self.selinux.get("type") == "MustRunAs":
            options = dict(self.selinux.get("seLinuxOptions") or {})
            self.selinux["seLinuxOptions"] = options
            if not options.get("level"):
                with self._preallocated("mcs", allocation):
                    options["level"] = allocation.mcs
        with self._preallocated("group", allocation):
            self.fs_group = self._group_ranges(scc.get("fsGroup"), allocation, first_only=True)
            self.supplemental = self._group_ranges(scc.get("supplementalGroups"), allocation, first_only=False)
        profiles = list(scc.get("seccompProfiles") or [])
        self.seccomp_any = "*" in profiles
        self.seccomp_allowed = [p for p in profiles if p != "*"]
        self.caps_default_add = list(scc.get("defaultAddCapabilities") or [])
        self.caps_required_drop = list(scc.get("requiredDropCapabilities") or [])
        self.caps_allowed = list(scc.get("allowedCapabilities") or [])
        self.volumes = set(scc.get("volumes") or [])

    @contextmanager
    def _preallocated(self, what: str, allocation: Allocation):
        try:
            yield
        except ValueError as err:
            raise ProviderError(
                f"unable to find pre-allocated {what} annotation for namespace {allocation.namespace} "
                f"while trying to configure SCC {self.name}: {err}"
            ) from None

    @staticmethod
    def _group_ranges(strategy: dict | None, allocation: Allocation, first_only: bool):
        """None for RunAsAny, else a list of (min, max); pre-allocated from the namespace when none are given."""
        strategy = strategy or {}
        if strategy.get("type") != "MustRunAs":
            return None
        ranges = [(int(r["min"]), int(r["max"])) for r in strategy.get("ranges") or []]
        if ranges:
            return ranges
        if first_only:  # fsGroup: min = max = the start of the first block
            start = allocation.group_blocks[0][0]
            return [(start, start)]
        return list(allocation.group_blocks)

    # ---- the whole pod -------------------------------------------------------------------------------------
    def assign(self, pod: dict) -> tuple[dict, list[FieldError]]:
        """Default and validate a copy of the pod. Returns (mutated copy, errors).

        The copy is shallow below the dicts this provider replaces (security contexts, annotations), so it may
        share untouched parts (env, probes, ...) with the input; ``admit`` deep-copies the pod it admits.
        """
        pod = working_copy(pod)
        spec = pod["spec"]
        errors = []
        self._default_pod(pod)
        errors += self._validate_pod(pod)
        annotations = pod["metadata"].get("annotations") or {}
        for segment, container in containers_of(spec):
            self._default_container(spec, container, annotations)
            errors += self._validate_container(pod, container, self.prefix + segment)
        return pod, errors

    def _error(self, path, kind, detail="", value=None, rule="", **params) -> FieldError:
        return FieldError(path, kind, detail, value, rule, self.name, params)

    # ---- pod-level defaults and checks -------------------------------------------------------------------------
    def _default_pod(self, pod: dict) -> None:
        spec = pod["spec"]
        psc = dict(spec.get("securityContext") or {})
        changed = False
        if not psc.get("supplementalGroups") and self.supplemental:
            psc["supplementalGroups"] = [self.supplemental[0][0]]
            changed = True
        if psc.get("fsGroup") is None and self.fs_group:
            psc["fsGroup"] = self.fs_group[0][0]
            changed = True
        if psc.get("seLinuxOptions") is None and self.selinux.get("type") == "MustRunAs":
            psc["seLinuxOptions"] = {k: v for k, v in self.selinux["seLinuxOptions"].items() if v}
            changed = True
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        # The profile comes from the field, else the annotation, else the SCC's first allowed profile; it is then
        # written to both the annotation and the field.
        profile = (
            seccomp_from_field(psc.get("seccompProfile"))
            or annotations.get(SECCOMP_POD)
            or (self.seccomp_allowed[0] if self.seccomp_allowed else "")
        )
        if profile:
            if (
                _field_from_seccomp(annotations.get(SECCOMP_POD, "")) != _field_from_seccomp(profile)
                or SECCOMP_POD not in annotations
            ):  # docker/default and runtime/default are the same profile
                pod["metadata"]["annotations"] = dict(annotations, **{SECCOMP_POD: profile})
            field_value = _field_from_seccomp(profile)
            if psc.get("seccompProfile") != field_value:
                if field_value is None:
                    psc.pop("seccompProfile", None)
                else:
                    psc["seccompProfile"] = field_value
                changed = True
        if changed:
            spec["securityContext"] = psc

    def _validate_pod(self, pod: dict) -> list[FieldError]:
        spec = pod["spec"]
        psc = spec.get("securityContext") or {}
        path = self.prefix + ".spec.securityContext"
        errors = []
        fs_group = psc.get("fsGroup")
        errors += self._check_groups(
            path + ".fsGroup", self.fs_group, [] if fs_group is None else [fs_group], "fsGroup"
        )
        errors += self._check_groups(
            path + ".supplementalGroups", self.supplemental, psc.get("supplementalGroups") or [], "supplementalGroups"
        )
        errors += self._check_seccomp(f"pod.metadata.annotations[{SECCOMP_POD}]", self._pod_seccomp(pod), None)
        errors += self._check_selinux(path + ".seLinuxOptions", psc.get("seLinuxOptions"), None)
        for flag, allowed, label in (
            ("hostNetwork", "allowHostNetwork", "Host network"),
            ("hostPID", "allowHostPID", "Host PID"),
            ("hostIPC", "allowHostIPC", "Host IPC"),
        ):
            if spec.get(flag) and not self.scc.get(allowed):
                errors.append(
                    self._error(
                        f"{path}.{flag}", "Invalid", f"{label} is not allowed to be used", go_value(True), rule=flag
                    )
                )
        errors += self._check_sysctls(psc.get("sysctls") or [])
        if "*" not in self.volumes:
            for index, volume in enumerate(spec.get("volumes") or []):
                kind = volume_type(volume)
                if kind not in self.volumes:
                    errors.append(
                        self._error(
                            f"spec.volumes[{index}]",
                            "Invalid",
                            f"{kind} volumes are not allowed to be used",
                            go_value(kind),
                            rule="volume",
                            volume=kind,
                            name=volume.get("name"),
                        )
                    )
        if self.scc.get("userNamespaceLevel") == "RequirePodLevel" and spec.get("hostUsers") is not False:
            errors.append(
                self._error(
                    path + ".hostUsers",
                    "Invalid",
                    "Host Users must be set to false",
                    go_value(spec.get("hostUsers")),
                    rule="hostUsers",
                )
            )
        return errors

    def _check_groups(self, path, ranges, groups, field_name) -> list[FieldError]:
        if ranges is None:
            return []
        if not groups:
            return [
                self._error(
                    path,
                    "Invalid",
                    "unable to validate empty groups against required ranges",
                    go_int64s(groups, self.plain_slices),
                    rule=field_name,
                    group=None,
                    ranges=ranges,
                )
            ]
        errors = []
        for group in groups:
            if not any(low <= group <= high for low, high in ranges):
                errors.append(
                    self._error(
                        path,
                        "Invalid",
                        f"{group} is not an allowed group",
                        go_int64s(groups, self.plain_slices),
                        rule=field_name,
                        group=group,
                        ranges=ranges,
                    )
                )
        return errors

    def _check_sysctls(self, sysctls) -> list[FieldError]:
        errors = []
        forbidden = self.scc.get("forbiddenSysctls") or []
        unsafe = self.scc.get("allowedUnsafeSysctls") or []

        def matches(name, patterns):
            return any(p == "*" or p == name or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)

        for index, sysctl in enumerate(sysctls):
            name = sysctl.get("name", "")
            path = f"pod.spec.securityContext.sysctls[{index}].name"
            if matches(name, forbidden):
                errors.append(
                    self._error(
                        path, "Forbidden", f"sysctl {go_value(name)} is not allowed", rule="sysctl", sysctl=name
                    )
                )
            elif name in SAFE_SYSCTLS or matches(name, unsafe):
                continue
            else:
                errors.append(
                    self._error(
                        path, "Forbidden", f"unsafe sysctl {go_value(name)} is not allowed", rule="sysctl", sysctl=name
                    )
                )
        return errors

    @staticmethod
    def _pod_seccomp(pod: dict) -> str:
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        profile = annotations.get(SECCOMP_POD, "")
        if not profile:
            profile = seccomp_from_field((pod["spec"].get("securityContext") or {}).get("seccompProfile"))
        return profile

    def _check_seccomp(self, path: str, profile: str, container: str | None) -> list[FieldError]:
        if not self.seccomp_any and not self.seccomp_allowed and profile:
            return [
                self._error(
                    path,
                    "Forbidden",
                    "seccomp may not be set",
                    rule="seccomp_forbidden",
                    profile=profile,
                    container=container,
                )
            ]
        if (not self.seccomp_allowed and not profile) or self.seccomp_any:
            return []
        defaults = {"runtime/default", "docker/default"}
        if profile in self.seccomp_allowed or (profile in defaults and defaults & set(self.seccomp_allowed)):
            return []
        valid = "[" + " ".join(self.seccomp_allowed) + "]"
        return [
            self._error(
                path,
                "Forbidden",
                f"{profile} is not an allowed seccomp profile. Valid values are {valid}",
                rule="seccomp_profile",
                profile=profile,
                container=container,
                allowed=self.seccomp_allowed,
            )
        ]

    def _check_selinux(self, path: str, options: dict | None, container: str | None) -> list[FieldError]:
        if self.selinux.get("type") != "MustRunAs":
            return []
        if options is None:
            return [self._error(path, "Required", rule="selinux_required", container=container)]
        wanted = self.selinux["seLinuxOptions"]
        errors = []
        if not _levels_equal(wanted.get("level"), options.get("level")):
            errors.append(
                self._error(
                    path + ".level",
                    "Invalid",
                    f"must be {wanted.get('level')}",
                    go_value(options.get("level") or ""),
                    rule="selinux_level",
                    level=options.get("level"),
                    wanted=wanted.get("level"),
                    container=container,
                )
            )
        for key in ("role", "type", "user"):
            if wanted.get(key) and wanted.get(key) != options.get(key):
                errors.append(
                    self._error(
                        f"{path}.{key}",
                        "Invalid",
                        f"must be {wanted[key]}",
                        go_value(options.get(key) or ""),
                        rule="selinux_" + key,
                        container=container,
                    )
                )
        return errors

    # ---- container-level defaults and checks -------------------------------------------------------------------
    def _default_container(self, spec: dict, container: dict, annotations: dict) -> None:
        psc = spec.get("securityContext") or {}
        csc = dict(container.get("securityContext") or {})
        changed = False

        def effective(key):
            return csc[key] if csc.get(key) is not None else psc.get(key)

        strategy = self.run_as_user.get("type")
        if effective("runAsUser") is None:
            uid = None
            if strategy == "MustRunAsRange":
                uid = self.run_as_user["uidRangeMin"]
            elif strategy == "MustRunAs":
                uid = self.run_as_user.get("uid")
            if uid is not None:
                csc["runAsUser"] = uid
                changed = True
        if effective("seLinuxOptions") is None and self.selinux.get("type") == "MustRunAs":
            csc["seLinuxOptions"] = {k: v for k, v in self.selinux["seLinuxOptions"].items() if v}
            changed = True
        uid = effective("runAsUser")
        if effective("runAsNonRoot") is None and (
            (uid is None and strategy == "MustRunAsNonRoot") or (uid is not None and uid > 0)
        ):
            csc["runAsNonRoot"] = True
            changed = True
        caps = self._default_capabilities(csc.get("capabilities"))
        if caps is not csc.get("capabilities"):
            csc["capabilities"] = caps
            changed = True
        if self.scc.get("readOnlyRootFilesystem") and csc.get("readOnlyRootFilesystem") is None:
            csc["readOnlyRootFilesystem"] = True
            changed = True
        own_annotation = (annotations or {}).get(SECCOMP_CONTAINER + container.get("name", ""))
        if own_annotation is not None and csc.get("seccompProfile") != _field_from_seccomp(own_annotation):
            csc["seccompProfile"] = _field_from_seccomp(own_annotation)
            if csc["seccompProfile"] is None:
                del csc["seccompProfile"]
            changed = True
        if self.scc.get("allowPrivilegeEscalation") is False and csc.get("allowPrivilegeEscalation") is None:
            csc["allowPrivilegeEscalation"] = False
            changed = True
        if changed:
            container["securityContext"] = csc

    def _default_capabilities(self, caps: dict | None):
        own_add = set((caps or {}).get("add") or [])
        own_drop = set((caps or {}).get("drop") or [])
        add = (set(self.caps_default_add) - own_drop) | own_add
        drop = set(self.caps_required_drop) | own_drop
        if len(add) == len(own_add) and len(drop) == len(own_drop):
            return caps
        result = {}
        if add:
            result["add"] = sorted(add)
        if drop:
            result["drop"] = sorted(drop)
        return result

    def _validate_container(self, pod: dict, container: dict, path: str) -> list[FieldError]:
        spec = pod["spec"]
        psc = spec.get("securityContext") or {}
        csc = container.get("securityContext") or {}
        name = container.get("name", "")

        def effective(key):
            return csc[key] if csc.get(key) is not None else psc.get(key)

        errors = self._check_run_as_user(path, effective("runAsUser"), effective("runAsNonRoot"), name)
        errors += self._check_selinux(path + ".seLinuxOptions", effective("seLinuxOptions"), name)
        errors += self._check_seccomp(
            f"pod.metadata.annotations[{SECCOMP_CONTAINER}{name}]", self._container_seccomp(pod, container), name
        )
        if csc.get("privileged") and not self.scc.get("allowPrivilegedContainer"):
            errors.append(
                self._error(
                    path + ".privileged",
                    "Invalid",
                    "Privileged containers are not allowed",
                    go_value(True),
                    rule="privileged",
                    container=name,
                )
            )
        errors += self._check_capabilities(path + ".capabilities", csc.get("capabilities"), name)
        if spec.get("hostNetwork") and not self.scc.get("allowHostNetwork"):
            errors.append(
                self._error(
                    path + ".hostNetwork",
                    "Invalid",
                    "Host network is not allowed to be used",
                    go_value(True),
                    rule="hostNetwork",
                )
            )
        if not self.scc.get("allowHostPorts"):
            # The plugin visits every container of the pod below this container's path (so a pod with two
            # containers reports `.containers[0].containers[1].hostPort` as well as `.containers[1].containers[1]...`).
            for segment, other in containers_of(spec):
                for port in other.get("ports") or []:
                    if (port.get("hostPort") or 0) > 0:
                        errors.append(
                            self._error(
                                f"{path}{segment}.hostPort",
                                "Invalid",
                                "Host ports are not allowed to be used",
                                go_value(int(port["hostPort"])),
                                rule="hostPort",
                                port=int(port["hostPort"]),
                                container=other.get("name", ""),
                            )
                        )
        for flag, allowed, label in (("hostPID", "allowHostPID", "Host PID"), ("hostIPC", "allowHostIPC", "Host IPC")):
            if spec.get(flag) and not self.scc.get(allowed):
                errors.append(
                    self._error(
                        f"{path}.{flag}", "Invalid", f"{label} is not allowed to be used", go_value(True), rule=flag
                    )
                )
        if self.scc.get("readOnlyRootFilesystem"):
            read_only = csc.get("readOnlyRootFilesystem")
            if read_only is None:
                errors.append(
                    self._error(
                        path + ".readOnlyRootFilesystem",
                        "Invalid",
                        "ReadOnlyRootFilesystem may not be nil and must be set to true",
                        go_value(None),
                        rule="readOnlyRootFilesystem",
                        container=name,
                    )
                )
            elif not read_only:
                errors.append(
                    self._error(
                        path + ".readOnlyRootFilesystem",
                        "Invalid",
                        "ReadOnlyRootFilesystem must be set to true",
                        go_value(False),
                        rule="readOnlyRootFilesystem",
                        container=name,
                    )
                )
        escalation = csc.get("allowPrivilegeEscalation")
        if self.scc.get("allowPrivilegeEscalation") is False and escalation is not False:
            errors.append(
                self._error(
                    path + ".allowPrivilegeEscalation",
                    "Invalid",
                    "Allowing privilege escalation for containers is not allowed",
                    go_value(escalation),
                    rule="allowPrivilegeEscalation",
                    container=name,
                )
            )
        return errors

    def _check_run_as_user(self, path, uid, non_root, container) -> list[FieldError]:
        strategy = self.run_as_user.get("type")
        if strategy == "MustRunAsRange":
            low, high = self.run_as_user["uidRangeMin"], self.run_as_user["uidRangeMax"]
            if uid is None:
                return [self._error(path + ".runAsUser", "Required", rule="uid_required", container=container)]
            if not low <= uid <= high:
                return [
                    self._error(
                        path + ".runAsUser",
                        "Invalid",
                        f"must be in the ranges: [{low}, {high}]",
                        go_value(uid),
                        rule="uid_range",
                        uid=uid,
                        low=low,
                        high=high,
                        container=container,
                    )
                ]
        elif strategy == "MustRunAs":
            wanted = self.run_as_user.get("uid")
            if uid is None:
                return [self._error(path + ".runAsUser", "Required", rule="uid_required", container=container)]
            if uid != wanted:
                return [
                    self._error(
                        path + ".runAsUser",
                        "Invalid",
                        f"must be: {wanted}",
                        go_value(uid),
                        rule="uid_exact",
                        uid=uid,
                        wanted=wanted,
                        container=container,
                    )
                ]
        elif strategy == "MustRunAsNonRoot":
            if non_root is None and uid is None:
                return [
                    self._error(
                        path + ".runAsNonRoot",
                        "Required",
                        "must be true",
                        rule="non_root_required",
                        container=container,
                    )
                ]
            if non_root is False:
                return [
                    self._error(
                        path + ".runAsNonRoot",
                        "Invalid",
                        "must be true",
                        go_value(False),
                        rule="non_root_false",
                        container=container,
                    )
                ]
            if uid == 0:
                return [
                    self._error(
                        path + ".runAsUser",
                        "Invalid",
                        "running with the root UID is forbidden",
                        go_value(0),
                        rule="root_uid",
                        container=container,
                    )
                ]
        return []

    @staticmethod
    def _container_seccomp(pod: dict, container: dict) -> str:
        own = seccomp_from_field((container.get("securityContext") or {}).get("seccompProfile"))
        if own:
            return own
        annotations = (pod.get("metadata") or {}).get("annotations") or {}
        key = SECCOMP_CONTAINER + container.get("name", "")
        if key in annotations:
            return annotations[key]
        return Provider._pod_seccomp(pod)

    def _check_capabilities(self, path, caps, container) -> list[FieldError]:
        if caps is None:
            if self.caps_default_add or self.caps_required_drop:
                return [
                    self._error(
                        path,
                        "Invalid",
                        "required capabilities are not set on the securityContext",
                        go_value(None),
                        rule="caps_missing",
                        container=container,
                    )
                ]
            return []
        if "*" in self.caps_allowed:
            return []
        errors = []
        allowed = set(self.caps_allowed) | set(self.caps_default_add)
        for cap in caps.get("add") or []:
            if cap not in allowed:
                errors.append(
                    self._error(
                        path + ".add",
                        "Invalid",
                        "capability may not be added",
                        go_value(cap),
                        rule="cap_add",
                        capability=cap,
                        container=container,
                    )
                )
        drops = caps.get("drop")
        for cap in self.caps_required_drop:
            if cap not in (drops or []):
                errors.append(
                    self._error(
                        path + ".drop",
                        "Invalid",
                        f"{cap} is required to be dropped but was not found",
                        go_capabilities(drops, self.plain_slices),
                        rule="cap_drop",
                        capability=cap,
                        container=container,
                    )
                )
        return errors
