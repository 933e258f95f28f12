"""Server-side apply and managedFields: field sets in the FieldsV1 form (``f:`` fields, ``k:`` list items keyed by
their merge keys), one entry per manager and operation, conflicts between managers unless forced."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

from .status import error

# Fields no manager owns: identity, server-set metadata, and status (owned through the status subresource).
_SKIP_TOP = {"apiVersion", "kind", "status"}
_META_OWNED = {"labels", "annotations", "finalizers", "ownerReferences"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _list_keys(schema: dict, schemas) -> list[str] | None:
    resolved = schemas.resolve(schema) if schema else {}
    if resolved.get("x-kubernetes-list-type") == "map" and resolved.get("x-kubernetes-list-map-keys"):
        return list(resolved["x-kubernetes-list-map-keys"])
    if resolved.get("x-kubernetes-patch-merge-key") and "merge" in resolved.get("x-kubernetes-patch-strategy", ""):
        return [resolved["x-kubernetes-patch-merge-key"]]
    return None


def _item_key(item: dict, keys: list[str]) -> str:
    return "k:" + json.dumps({k: item.get(k) for k in keys if k in item}, separators=(",", ":"))


def fieldset(obj: dict, schema: dict | None, schemas) -> dict:
    out: dict = {}
    for key, value in obj.items():
        if key in _SKIP_TOP:
            continue
        if key == "metadata":
            meta = {k: v for k, v in (value or {}).items() if k in _META_OWNED}
            if meta:
                out["f:metadata"] = _fields(meta, schemas.child(schema, "metadata") if schema else None, schemas)
            continue
        out[f"f:{key}"] = _node(value, schemas.child(schema, key) if schema else None, schemas)
    return out


def _fields(obj: dict, schema, schemas) -> dict:
    return {f"f:{k}": _node(v, schemas.child(schema, k) if schema else None, schemas) for k, v in obj.items()}


def _node(value, schema, schemas) -> dict:
    if isinstance(value, dict):
        return _fields(value, schema, schemas)
    if isinstance(value, list):
        keys = _list_keys(schema, schemas)
        if keys and all(isinstance(x, dict) for x in value):
            item_schema = schemas.resolve(schema).get("items")
            return {_item_key(x, keys): {".": {}, **_fields(x, item_schema, schemas)} for x in value}
    return {}


def leaves(fs: dict, prefix: tuple = ()) -> set[tuple]:
    out: set[tuple] = set()
    for key, sub in fs.items():
        path = prefix + (key,)
        if sub:
            out |= leaves(sub, path)
        else:
            out.add(path)
    return out


def from_leaves(paths: set[tuple]) -> dict:
    out: dict = {}
    for path in sorted(paths):
        node = out
        for key in path:
            node = node.setdefault(key, {})
    return out


def _step(value, key: str):
    if key.startswith("f:"):
        return value.get(key[2:]) if isinstance(value, dict) else None
    if key.startswith("k:"):
        wanted = json.loads(key[2:])
        for item in value if isinstance(value, list) else ():
            if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
                return item
        return None
    return value  # "."


_MISSING = object()


def value_at(obj, path: tuple):
    cur = obj
    for key in path:
        if cur is None:
            return _MISSING
        cur = _step(cur, key)
    return _MISSING if cur is None else cur


def remove_at(obj, path: tuple) -> None:
    if path and path[-1] == ".":
        path = path[:-1]
    parent = obj
    for key in path[:-1]:
        parent = _step(parent, key)
        if parent is None:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        item = _step(parent, last)
        if item is not None:
            parent.remove(item)


def structured_merge(current, applied, schema, schemas):
    if isinstance(applied, dict) and isinstance(current, dict):
        out = dict(current)
        for key, value in applied.items():
            out[key] = structured_merge(current.get(key), value, schemas.child(schema, key) if schema else None,
                                        schemas)
        return out
    if isinstance(applied, list) and isinstance(current, list):
        keys = _list_keys(schema, schemas)
        if keys and all(isinstance(x, dict) for x in applied + current):
            item_schema = schemas.resolve(schema).get("items")
            out = [copy.deepcopy(x) for x in current]
            for item in applied:
                k = _item_key(item, keys)
                match = next((i for i, x in enumerate(out) if _item_key(x, keys) == k), None)
                if match is None:
                    out.append(copy.deepcopy(item))
                else:
                    out[match] = structured_merge(out[match], item, item_schema, schemas)
            return out
    return copy.deepcopy(applied)


def _entries(obj: dict) -> list[dict]:
    return [dict(e) for e in (obj.get("metadata", {}).get("managedFields") or [])]


def _path_text(path: tuple) -> str:
    out = ""
    for key in path:
        if key.startswith("f:"):
            out += "." + key[2:]
        elif key.startswith("k:"):
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(key[2:]).items()) + "]"
    return out


def server_side_apply(current: dict, applied: dict, *, manager: str, force: bool, schema: dict, schemas,
                      api_version: str, rt_name: str, subresource: str = "") -> dict:
    """The object after ``manager`` applies ``applied`` over ``current`` (which may be {} for a create)."""
    new_fs = fieldset(applied, schema, schemas)
    new_leaves = leaves(new_fs)
    entries = _entries(current)
    mine = next((e for e in entries if e.get("manager") == manager and e.get("operation") == "Apply"), None)
    old_leaves = leaves(mine.get("fieldsV1") or {}) if mine else set()
    conflicts: list[tuple[str, tuple]] = []
    for entry in entries:
        if entry is mine:
            continue
        for path in leaves(entry.get("fieldsV1") or {}) & new_leaves:
            if path[-1] != "." and value_at(current, path) != value_at(applied, path):
                conflicts.append((entry.get("manager", ""), path))
    if conflicts and not force:
        noun = "conflict" if len(conflicts) == 1 else "conflicts"
        lines = [f'conflict with "{m}" using {api_version}: {_path_text(p)}' for m, p in conflicts]
        message = f"Apply failed with {len(conflicts)} {noun}: " + ("\n".join(lines) if len(lines) > 1 else lines[0])
        raise error(409, message, "Conflict", {
            "name": current.get("metadata", {}).get("name", ""), "kind": rt_name,
            "causes": [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {api_version}',
                        "field": _path_text(p)} for m, p in conflicts]})
    merged = structured_merge({k: v for k, v in current.items()}, applied, schema, schemas)
    merged["metadata"] = {**current.get("metadata", {}), **{k: v for k, v in merged.get("metadata", {}).items()}}
    others: set[tuple] = set()
    for entry in entries:
        if entry is not mine:
            owned = leaves(entry.get("fieldsV1") or {})
            if force:
                owned -= new_leaves
                entry["fieldsV1"] = from_leaves(owned)
            others |= owned
    for path in sorted(old_leaves - new_leaves, key=len, reverse=True):
        if not any(o[:len(path) - (path[-1] == ".")] == path[:len(path) - (path[-1] == ".")] for o in others):
            remove_at(merged, path)
    kept = [e for e in entries if e is not mine and e.get("fieldsV1")]
    kept.append({"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": _now(),
                 "fieldsType": "FieldsV1", "fieldsV1": new_fs, **({"subresource": subresource} if subresource else {})})
    merged["metadata"]["managedFields"] = kept
    return merged


def record_update(old: dict | None, new: dict, *, manager: str, schema: dict | None, schemas, api_version: str,
                  subresource: str = "") -> None:
    """Give ``manager`` (operation Update) the fields this write set or changed, taking them from other managers —
    so a later apply by someone else conflicts, as on a real server. Mutates ``new['metadata']``."""
    if not manager:
        return
    new_leaves = leaves(fieldset(new, schema, schemas))
    if old:
        changed = {p for p in new_leaves if value_at(old, p) != value_at(new, p)}
    else:
        changed = new_leaves
    entries = _entries(old or {}) if old else _entries(new)
    if not changed and any(e.get("manager") == manager for e in entries):
        new["metadata"]["managedFields"] = entries
        return
    out = []
    mine = None
    for entry in entries:
        if entry.get("manager") == manager and entry.get("operation") == "Update" \
                and entry.get("subresource", "") == subresource:
            mine = entry
            continue
        owned = leaves(entry.get("fieldsV1") or {}) - changed
        # a field that no longer exists belongs to nobody
        owned = {p for p in owned if value_at(new, p) is not _MISSING or p[-1] == "."}
        if owned:
            out.append({**entry, "fieldsV1": from_leaves(owned)})
    owned = (leaves(mine.get("fieldsV1") or {}) if mine else set()) | changed
    owned = {p for p in owned if value_at(new, p) is not _MISSING}
    if owned:
        out.append({"manager": manager, "operation": "Update", "apiVersion": api_version, "time": _now(),
                    "fieldsType": "FieldsV1", "fieldsV1": from_leaves(owned),
                    **({"subresource": subresource} if subresource else {})})
    new["metadata"]["managedFields"] = out
