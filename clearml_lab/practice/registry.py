"""The resource table (data/resources.yaml) and the OpenShift release table, as lookups for routing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources as _files

import yaml

from ..errors import UsageError


def load_data(name: str):
    return yaml.safe_load(_files.files(__package__).joinpath("data", name).read_text())


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    schema: str = ""
    virtual: bool = False  # answered by the server, never stored
    protobuf: str = ""  # message name when clients may send protobuf
    generation: bool = False  # keeps metadata.generation, bumped when the spec changes

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def name(self) -> str:
        """``pods`` for the core group, ``deployments.apps`` otherwise (the Client contract's spelling)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


@dataclass(frozen=True)
class Subresource:
    """What a subresource speaks (kind, and group/version when not its parent's) and which verbs it takes."""

    verbs: tuple[str, ...]
    kind: str = ""  # empty: the parent's kind
    group: str = ""  # set (with version) only when the subresource speaks another API group's kind
    version: str = ""


class Registry:
    def __init__(self, table: dict | None = None):
        table = table or load_data("resources.yaml")
        self.subresource_kinds = {
            name: Subresource(tuple(row["verbs"]), row.get("kind", ""), row.get("group", ""), row.get("version", ""))
            for name, row in (table.get("subresource_kinds") or {}).items()
        }
        sets = table["verb_sets"]
        self.types: list[ResourceType] = []
        for row in table["resources"]:
            verbs = sets[row["verbs"]] if isinstance(row["verbs"], str) else row["verbs"]
            self.types.append(
                ResourceType(
                    group=row["group"],
                    version=row["version"],
                    kind=row["kind"],
                    plural=row["plural"],
                    namespaced=row["namespaced"],
                    verbs=tuple(verbs),
                    short_names=tuple(row.get("shortNames", ())),
                    categories=tuple(row.get("categories", ())),
                    subresources=tuple(row.get("subresources", ())),
                    schema=row.get("schema", ""),
                    virtual=row.get("virtual", False),
                    protobuf=row.get("protobuf", ""),
                    generation=row.get("generation", False),
                )
            )
        self._by_path = {(t.group, t.version, t.plural): t for t in self.types}
        self._by_name = {t.name: t for t in self.types}
        self._by_kind = {(t.api_version, t.kind): t for t in self.types}

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_name(self, name: str) -> ResourceType | None:
        return self._by_name.get(name)

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """Group name -> its versions, core ("") included, in table order."""
        out: dict[str, list[str]] = {}
        for t in self.types:
            versions = out.setdefault(t.group, [])
            if t.version not in versions:
                versions.append(t.version)
        return out

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [t for t in self.types if t.group == group and t.version == version]


@cache
def default_registry() -> Registry:
    return Registry()


@dataclass(frozen=True)
class Release:
    openshift: str  # "4.19"
    openshift_full: str  # "4.19.2"
    kubernetes: str  # "1.32"
    git_version: str  # "v1.32.5"

    @property
    def major_minor(self) -> tuple[str, str]:
        major, minor = self.kubernetes.split(".")
        return major, minor


def release(openshift_version: str | None = None) -> Release:
    table = load_data("releases.yaml")
    wanted = str(openshift_version or table["default"])
    row = table["releases"].get(wanted)
    if row is None:
        known = ", ".join(table["releases"])
        raise UsageError(f"OpenShift {wanted} is not one the practice cluster emulates; choose one of {known}.")
    return Release(wanted, row["openshift"], row["kubernetes"], row["gitVersion"])
