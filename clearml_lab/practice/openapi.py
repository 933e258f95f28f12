"""OpenAPI v3 documents, one per group-version, generated from the resource table and the schemas.

Every resource gets a ``patch`` operation tagged with its group-version-kind and a ``fieldValidation`` parameter —
create-only kinds included — which is how kubectl and helm learn that the server validates fields itself."""

from __future__ import annotations

import hashlib
import json

from .registry import Registry
from .schemas import REF_PREFIX, Schemas

COMPONENT_PREFIX = "#/components/schemas/"
_QUERY = [
    ("dryRun", "string"),
    ("fieldManager", "string"),
    ("fieldValidation", "string"),
    ("force", "boolean"),
    ("pretty", "string"),
]


def _convert(schema):
    """JSON-schema (as the definitions spell it) to OpenAPI 3.0: nullable types, component refs."""
    if isinstance(schema, list):
        return [_convert(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str):
            out["$ref"] = COMPONENT_PREFIX + value[len(REF_PREFIX) :]
        elif key == "type" and isinstance(value, list):
            kinds = [v for v in value if v != "null"]
            if kinds:
                out["type"] = kinds[0]
        elif key in ("properties", "patternProperties"):
            out[key] = {k: _convert(v) for k, v in value.items()}
        else:
            out[key] = _convert(value)
    return out


def _refs(schema, found: set[str], defs: dict) -> None:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            name = ref[len(REF_PREFIX) :]
            if name not in found and name in defs:
                found.add(name)
                _refs(defs[name], found, defs)
        for value in schema.values():
            _refs(value, found, defs)
    elif isinstance(schema, list):
        for value in schema:
            _refs(value, found, defs)


def _path_prefix(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def group_version_document(registry: Registry, schemas: Schemas, group: str, version: str) -> dict | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    defs = schemas.defs
    wanted: set[str] = {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
        "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    }
    paths: dict = {}
    prefix = _path_prefix(group, version)
    for t in types:
        gvk = {"group": t.group, "version": t.version, "kind": t.kind}
        if t.schema in defs:
            wanted.add(t.schema)
        ref = {"$ref": COMPONENT_PREFIX + t.schema} if t.schema in defs else {"type": "object"}
        base = f"{prefix}/namespaces/{{namespace}}/{t.plural}" if t.namespaced else f"{prefix}/{t.plural}"
        path_params = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
        if t.namespaced:
            path_params.append({"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}})
        query = [{"name": n, "in": "query", "schema": {"type": ty}, "uniqueItems": True} for n, ty in _QUERY]
        ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        item_ops = {
            "parameters": path_params,
            "patch": {
                "operationId": f"patch{t.kind}",
                "tags": [f"{t.group or 'core'}_{t.version}"],
                "parameters": query,
                "requestBody": {
                    "required": True,
                    "content": {
                        mt: {"schema": {"$ref": COMPONENT_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}}
                        for mt in (
                            "application/apply-patch+yaml",
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/strategic-merge-patch+json",
                        )
                    },
                },
                "responses": ok,
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            },
        }
        if "get" in t.verbs:
            item_ops["get"] = {
                "operationId": f"read{t.kind}",
                "responses": ok,
                "x-kubernetes-action": "get",
                "x-kubernetes-group-version-kind": gvk,
            }
        if "update" in t.verbs:
            item_ops["put"] = {
                "operationId": f"replace{t.kind}",
                "parameters": query,
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": ok,
                "x-kubernetes-action": "put",
                "x-kubernetes-group-version-kind": gvk,
            }
        if "delete" in t.verbs:
            item_ops["delete"] = {
                "operationId": f"delete{t.kind}",
                "responses": ok,
                "x-kubernetes-action": "delete",
                "x-kubernetes-group-version-kind": gvk,
            }
        paths[f"{base}/{{name}}"] = item_ops
        collection = {"parameters": path_params[1:]}
        if "create" in t.verbs:
            collection["post"] = {
                "operationId": f"create{t.kind}",
                "parameters": query,
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": ok,
                "x-kubernetes-action": "post",
                "x-kubernetes-group-version-kind": gvk,
            }
        if "list" in t.verbs:
            collection["get"] = {
                "operationId": f"list{t.kind}",
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "list",
                "x-kubernetes-group-version-kind": gvk,
            }
        paths[base] = collection
    closure: set[str] = set(wanted)
    for name in wanted:
        _refs(defs.get(name, {}), closure, defs)
    components = {name: _convert(defs[name]) for name in sorted(closure) if name in defs}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": components},
    }


class OpenAPI:
    """Documents built once per server and served with their content hash, as the real apiserver does."""

    def __init__(self, registry: Registry, schemas: Schemas):
        self.docs: dict[str, bytes] = {}
        self.hashes: dict[str, str] = {}
        for group, versions in registry.group_versions().items():
            for version in versions:
                key = f"apis/{group}/{version}" if group else f"api/{version}"
                doc = group_version_document(registry, schemas, group, version)
                body = json.dumps(doc, separators=(",", ":")).encode()
                self.docs[key] = body
                self.hashes[key] = hashlib.sha512(body).hexdigest()[:128].upper()

    def root(self) -> dict:
        return {"paths": {key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={h}"} for key, h in self.hashes.items()}}
