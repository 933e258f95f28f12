"""Object schemas: the upstream Kubernetes definitions (from the kubernetes-validate package) for the emulated
release plus the OpenShift ones in data/openshift_schemas.yaml, with the defaults of list keys that upstream
publishes (data/schema_defaults.yaml). Used for unknown-field checks, strategic-merge keys, server-side apply's list
and map types, and the OpenAPI documents."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

from .registry import load_data

REF_PREFIX = "#/$defs/"


def _schema_dir(kubernetes: str) -> Path:
    # Located, not imported: importing kubernetes_validate pulls in jsonschema and costs seconds at start.
    spec = importlib.util.find_spec("kubernetes_validate")
    root = Path(spec.submodule_search_locations[0]) / "kubernetes-json-schema"
    available = sorted(
        (tuple(int(x) for x in p.name[1:].split("-")[0].split(".")[:2]), p)
        for p in root.iterdir()
        if p.name.endswith("-local")
    )
    wanted = tuple(int(x) for x in kubernetes.split("."))
    # The exact release if the package has it, else the nearest newer one (the package starts at 1.25).
    for version, path in available:
        if version >= wanted:
            return path
    return available[-1][1]


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".")[:2])


@cache
def definitions(kubernetes: str) -> dict:
    defs = json.loads((_schema_dir(kubernetes) / "_definitions.json").read_text())["$defs"]
    openshift = {k: v for k, v in load_data("openshift_schemas.yaml").items() if not k.startswith("_")}
    out = {**defs, **openshift}
    for entry in load_data("schema_defaults.yaml"):
        if entry.get("since") and _minor(kubernetes) < _minor(str(entry["since"])):
            continue
        prop = (out.get(entry["definition"]) or {}).get("properties", {}).get(entry["property"])
        if isinstance(prop, dict):
            prop["default"] = entry["default"]
    return out


class Schemas:
    def __init__(self, kubernetes: str):
        self.defs = definitions(kubernetes)

    def resolve(self, schema: dict | None) -> dict:
        seen = 0
        while schema and "$ref" in schema and seen < 20:
            schema = self.defs.get(schema["$ref"][len(REF_PREFIX) :], {})
            seen += 1
        return schema or {}

    def get(self, name: str) -> dict:
        return self.defs.get(name, {})

    def child(self, schema: dict, key: str) -> dict | None:
        """The schema of ``key`` inside an object schema (None when the schema does not know it)."""
        schema = self.resolve(schema)
        props = schema.get("properties") or {}
        if key in props:
            return props[key]
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return extra
        return None

    def items(self, schema: dict) -> dict:
        return self.resolve(self.resolve(schema).get("items") or {})

    def _extension(self, schema: dict | None, name: str):
        # An extension sits beside a field's $ref (a Deployment's selector) or in the definition itself.
        if not schema:
            return None
        return schema[name] if name in schema else self.resolve(schema).get(name)

    def list_type(self, schema: dict | None) -> tuple[str, tuple[str, ...]]:
        """How server-side apply treats a list: ("map", keys), ("set", ()) or ("atomic", ()). Without
        x-kubernetes-list-type, a list the strategic patch merges on a key is a map on that key and one it merges
        without a key a set, as the apiserver converts its OpenAPI; any other list is atomic."""
        kind = self._extension(schema, "x-kubernetes-list-type")
        if kind == "map":
            return "map", tuple(self._extension(schema, "x-kubernetes-list-map-keys") or ())
        if kind in ("set", "atomic"):
            return kind, ()
        if "merge" in (self._extension(schema, "x-kubernetes-patch-strategy") or "").split(","):
            key = self._extension(schema, "x-kubernetes-patch-merge-key")
            return ("map", (key,)) if key else ("set", ())
        return "atomic", ()

    def atomic_map(self, schema: dict | None) -> bool:
        """A map (or struct) owned and replaced as a whole (x-kubernetes-map-type: atomic, e.g. a LabelSelector)."""
        return self._extension(schema, "x-kubernetes-map-type") == "atomic"

    def field_default(self, schema: dict | None, key: str) -> tuple[bool, object]:
        """(True, value) when the object schema declares a default for ``key``."""
        prop = (self.resolve(schema).get("properties") or {}).get(key)
        if isinstance(prop, dict) and "default" in prop:
            return True, prop["default"]
        return False, None

    def unknown_fields(self, obj, schema_name: str, *, prune: bool = False) -> list[str]:
        """Dotted paths of fields the schema does not define, as the apiserver's strict decoding reports them.
        With ``prune`` they are also removed, as decoding into typed objects drops them."""
        found: list[str] = []
        if schema_name in self.defs:
            self._walk(obj, self.defs[schema_name], "", found, prune)
        return found

    def _walk(self, value, schema: dict, path: str, found: list[str], prune: bool = False) -> None:
        schema = self.resolve(schema)
        if not schema or schema.get("x-kubernetes-preserve-unknown-fields"):
            return
        if isinstance(value, dict):
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            if props is None and extra is None:
                return  # a free-form object
            for key, sub in list(value.items()):
                where = f"{path}.{key}" if path else key
                if props and key in props:
                    self._walk(sub, props[key], where, found, prune)
                elif isinstance(extra, dict):
                    self._walk(sub, extra, where, found, prune)
                elif extra is True:
                    continue
                else:
                    found.append(where)
                    if prune:
                        del value[key]
        elif isinstance(value, list) and schema.get("items"):
            for i, sub in enumerate(value):
                self._walk(sub, schema["items"], f"{path}[{i}]", found, prune)
