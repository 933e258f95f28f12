"""The default SCCs of an OpenShift release, their RBAC, and the order admission tries them in."""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources

import yaml

from ..errors import UsageError

SCC_API_VERSION = "security.openshift.io/v1"
RBAC_NAME = "system:openshift:scc:{}"

# Restrictiveness points (apiserver-library-go util/sort/byrestrictions.go); lower is more restrictive.
_STRATEGY_POINTS = {"RunAsAny": 40000, "MustRunAsNonRoot": 30000, "MustRunAsRange": 20000, "MustRunAs": 10000}
_TRIVIAL_VOLUMES = {"secret", "configMap", "emptyDir", "downwardAPI", "projected", "none"}


def _data_text(*parts: str) -> str:
    return resources.files(__package__).joinpath("data", *parts).read_text(encoding="utf-8")


@cache
def releases() -> dict:
    """The release table (data/releases.yaml)."""
    return yaml.safe_load(_data_text("releases.yaml"))


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def normalize_version(openshift_version: str | None) -> str:
    """'4.19', '4.19.7' or None (the newest known) -> '4.19'; an unknown release is a UsageError."""
    known = releases()["releases"]
    if openshift_version in (None, "", "latest"):
        return known[-1]
    text = str(openshift_version).strip().lstrip("v")
    parts = text.split(".")
    minor = ".".join(parts[:2])
    if minor not in known:
        raise UsageError(
            f"OpenShift {openshift_version} is not a release the SCC engine knows; use one of {known[0]} to {known[-1]}."
        )
    return minor


def kubernetes_version(openshift_version: str) -> str:
    """The Kubernetes minor an OpenShift release ships, e.g. 4.19 -> 1.32."""
    return releases()["kubernetes"][normalize_version(openshift_version)]


def at_least(openshift_version: str, first: str) -> bool:
    return _key(normalize_version(openshift_version)) >= _key(first)


def has_feature(openshift_version: str, feature: str) -> bool:
    return at_least(openshift_version, releases()["features"][feature])


@cache
def _scc_file(name: str) -> dict:
    return yaml.safe_load(_data_text("sccs", f"{name}.yaml"))


def default_scc_names(openshift_version: str = "4.19") -> list[str]:
    table = releases()
    names = list(table["standard"])
    names += [name for name, first in table["added"].items() if at_least(openshift_version, first)]
    return names


def load_sccs(openshift_version: str = "4.19") -> list[dict]:
    """The default SCC objects of that release, sorted as admission tries them. Each call returns fresh copies."""
    version = normalize_version(openshift_version)
    late_volumes = {
        vol: first for vol, first in releases()["volume_types_added"].items() if not at_least(version, first)
    }
    sccs = []
    for name in default_scc_names(version):
        scc = copy.deepcopy(_scc_file(name))
        scc["volumes"] = [vol for vol in scc.get("volumes") or [] if vol not in late_volumes]
        sccs.append(scc)
    return sort_sccs(sccs)


def default_scc_rbac(openshift_version: str = "4.19") -> list[dict]:
    """ClusterRoles system:openshift:scc:<name> (verb use) and the ClusterRoleBindings to system:authenticated."""
    version = normalize_version(openshift_version)
    objects = []
    for name in sorted(default_scc_names(version)):
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {
                    "name": RBAC_NAME.format(name),
                    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
                },
                "rules": [
                    {
                        "apiGroups": ["security.openshift.io"],
                        "resources": ["securitycontextconstraints"],
                        "resourceNames": [name],
                        "verbs": ["use"],
                    }
                ],
            }
        )
    for name, first in releases()["authenticated_bindings"].items():
        if not at_least(version, first):
            continue
        objects.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {
                    "name": RBAC_NAME.format(name),
                    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
                },
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": RBAC_NAME.format(name),
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"}
                ],
            }
        )
    return objects


def _capability_points(scc: dict) -> int:
    points = 5000 + 300 * len(scc.get("defaultAddCapabilities") or [])
    allowed = scc.get("allowedCapabilities") or []
    points += 4000 if ("*" in allowed or "ALL" in allowed) else 10 * len(allowed)
    drops = scc.get("requiredDropCapabilities") or []
    points -= 3000 if "ALL" in drops else 50 * len(drops)
    return max(0, min(points, 9999))


def points(scc: dict) -> int:
    """How much an SCC allows: lower is more restrictive (privileged 3089000, restricted-v2 132010)."""
    total = 0
    if scc.get("allowPrivilegedContainer"):
        total += 1_600_000
    if scc.get("allowHostPorts"):
        total += 800_000
    if scc.get("allowHostNetwork"):
        total += 400_000
    volumes = set(scc.get("volumes") or [])
    if "hostPath" in volumes or "*" in volumes:
        total += 200_000
    elif volumes - _TRIVIAL_VOLUMES:
        total += 100_000
    total += _STRATEGY_POINTS.get((scc.get("runAsUser") or {}).get("type"), 0)
    total += _STRATEGY_POINTS.get((scc.get("seLinuxContext") or {}).get("type"), 0)
    return total + _capability_points(scc)


def priority(scc: dict) -> int:
    return int(scc.get("priority") or 0)


def sort_sccs(sccs) -> list[dict]:
    """Admission order: higher priority first, then fewer points (more restrictive), then name."""
    return sorted(sccs, key=lambda scc: (-priority(scc), points(scc), scc["metadata"]["name"]))


def by_restriction(sccs) -> list[dict]:
    """Least privilege first, ignoring priority (priority is precedence, not privilege)."""
    return sorted(sccs, key=lambda scc: (points(scc), scc["metadata"]["name"]))


def scc_name(scc: dict) -> str:
    return scc["metadata"]["name"]
