"""Server-side apply and managedFields as the apiserver's structured-merge-diff does them.

Field sets use the FieldsV1 form: ``f:<field>``, ``k:{...}`` for an item of a list of type map (its map keys,
sorted), ``v:<json>`` for an item of a list of type set, ``.`` for an item itself. How a list or map merges comes
from the schemas the server publishes (x-kubernetes-list-type, x-kubernetes-list-map-keys, x-kubernetes-map-type);
a key field an item leaves out takes its schema default, and an applied item that omits a key with no default is
refused with structured-merge-diff's message. The applier owns exactly the fields it sent: defaults the server fills
in afterwards belong to nobody. Another manager's field that an apply would change is a conflict (409) unless
forced, which takes it over; an apply that changes nothing changes nothing, not even its manager's timestamp."""

from __future__ import annotations

import copy
import json

from ..timestamps import rfc3339
from .client import ApiError
from .status import error, status

# Fields no manager owns: identity, server-set metadata, and status (owned through the status subresource).
_SKIP_TOP = {"apiVersion", "kind", "status"}
_META_OWNED = {"labels", "annotations", "finalizers", "ownerReferences"}
_MISSING = object()


def _now() -> str:
    return rfc3339()


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class TypedError(Exception):
    """An object that does not fit its schema's list and map types (structured-merge-diff's ValidationError)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}" if path else message)


# ---- path elements -----------------------------------------------------------------------------------------------


def _item_key(item, keys: tuple[str, ...], item_schema, schemas, *, strict: bool) -> dict:
    """The map keys naming ``item``: a key it leaves out takes the schema default; with none, an applied item is
    refused (``strict``) and a stored one is named by the keys it has."""
    if item is None:
        raise ValueError("associative list with keys may not have a null element")
    if not isinstance(item, dict):
        raise ValueError("associative list with keys may not have non-map elements")
    found = {}
    for key in keys:
        if item.get(key) is not None:
            found[key] = item[key]
            continue
        has, default = schemas.field_default(item_schema, key)
        if has:
            found[key] = default
        elif strict:
            raise ValueError(
                f'associative list with keys has an element that omits key field "{key}" (and '
                "doesn't have default value)"
            )
    return dict(sorted(found.items()))


def _pe(item, shape: tuple[str, tuple[str, ...]], item_schema, schemas, *, strict: bool) -> str:
    kind, keys = shape
    if kind == "map":
        return "k:" + _json(_item_key(item, keys, item_schema, schemas, strict=strict))
    if isinstance(item, (dict, list)):
        raise ValueError(
            "associative list without keys has an element that's a map type"
            if isinstance(item, dict)
            else "not supported: associative list with lists as elements"
        )
    return "v:" + _json(item)


def _pe_text(pe: str) -> str:
    """A path element as the apiserver prints it: .field, [key=value,...], [=value]."""
    if pe.startswith("f:"):
        return "." + pe[2:]
    if pe.startswith("k:"):
        return "[" + ",".join(f"{k}={_json(v)}" for k, v in json.loads(pe[2:]).items()) + "]"
    if pe.startswith("v:"):
        return f"[={pe[2:]}]"
    return ""


def path_text(path: tuple) -> str:
    return "".join(_pe_text(pe) for pe in path)


def _list_items(value: list, schema, schemas, where: str, *, strict: bool):
    """(path element, item) for each item of a map or set list; errors name the list and the item's index."""
    shape = schemas.list_type(schema)
    item_schema = schemas.resolve(schema).get("items") if schema else None
    out, seen = [], set()
    for index, item in enumerate(value):
        try:
            pe = _pe(item, shape, item_schema, schemas, strict=strict)
        except ValueError as exc:
            if not strict:
                continue  # a stored item the schema cannot name is nobody's field
            raise TypedError(where, f"element {index}: {exc}") from None
        if strict and pe in seen:
            raise TypedError(where, f"duplicate entries for key {_pe_text(pe)}")
        seen.add(pe)
        out.append((pe, item))
    return out


def _child(schema, key: str, schemas):
    return schemas.child(schema, key) if schema else None


# ---- field sets ----------------------------------------------------------------------------------------------------


def fieldset(obj: dict, schema: dict | None, schemas, *, strict: bool = False) -> dict:
    """The fields ``obj`` sets, as a FieldsV1 tree. ``strict`` for an applied configuration (a list item that
    omits a key field without default, or two items with one key, are refused)."""
    out: dict = {}
    for key, value in obj.items():
        if key in _SKIP_TOP:
            continue
        sub = _child(schema, key, schemas)
        if key == "metadata":
            meta = {k: v for k, v in (value or {}).items() if k in _META_OWNED}
            if meta:
                out["f:metadata"] = _node(meta, sub, schemas, ".metadata", strict)
            continue
        out[f"f:{key}"] = _node(value, sub, schemas, f".{key}", strict)
    return out


def _node(value, schema, schemas, where: str, strict: bool) -> dict:
    if isinstance(value, dict):
        if schema is not None and schemas.atomic_map(schema):
            return {}
        return {
            f"f:{k}": _node(v, _child(schema, k, schemas), schemas, f"{where}.{k}", strict) for k, v in value.items()
        }
    if isinstance(value, list) and schema is not None and schemas.list_type(schema)[0] != "atomic":
        item_schema = schemas.resolve(schema).get("items")
        out = {}
        for pe, item in _list_items(value, schema, schemas, where, strict=strict):
            if pe.startswith("k:"):
                out[pe] = {".": {}, **_node(item, item_schema, schemas, where + _pe_text(pe), strict)}
            else:
                out[pe] = {}
        return out
    return {}


def values(obj: dict, schema: dict | None, schemas) -> dict[tuple, object]:
    """Every leaf of ``fieldset(obj)`` with its value (an item's ``.`` with the item), in one walk, so that
    comparing two objects field by field costs one pass over each."""
    out: dict[tuple, object] = {}
    for key, value in obj.items():
        if key in _SKIP_TOP or value is None:
            continue
        sub = _child(schema, key, schemas)
        if key == "metadata":
            meta = {k: v for k, v in (value or {}).items() if k in _META_OWNED}
            if meta:
                _values(meta, sub, schemas, ("f:metadata",), out)
            continue
        _values(value, sub, schemas, (f"f:{key}",), out)
    return out


def _values(value, schema, schemas, path: tuple, out: dict) -> None:
    if isinstance(value, dict) and value and not (schema is not None and schemas.atomic_map(schema)):
        for key, sub in value.items():
            if sub is not None:
                _values(sub, _child(schema, key, schemas), schemas, path + (f"f:{key}",), out)
        return
    if isinstance(value, list) and value and schema is not None and schemas.list_type(schema)[0] != "atomic":
        item_schema = schemas.resolve(schema).get("items")
        for pe, item in _list_items(value, schema, schemas, "", strict=False):
            if pe.startswith("k:"):
                out.setdefault(path + (pe, "."), item)
                for key, sub in item.items():
                    if sub is not None:
                        _values(sub, _child(item_schema, key, schemas), schemas, path + (pe, f"f:{key}"), out)
            else:
                out[path + (pe,)] = item
        return
    out[path] = value


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


# ---- reading and removing by path ----------------------------------------------------------------------------------


def _step(value, schema, key: str, schemas):
    """(child value, child schema) one path element down, or (_MISSING, None)."""
    if key.startswith("f:"):
        if isinstance(value, dict) and key[2:] in value:
            return value[key[2:]], _child(schema, key[2:], schemas)
        return _MISSING, None
    if key.startswith(("k:", "v:")) and isinstance(value, list):
        index = _index(value, schema, key, schemas)
        if index is not None:
            return value[index], (schemas.resolve(schema).get("items") if schema else None)
        return _MISSING, None
    if key == ".":
        return value, schema
    return _MISSING, None


def _index(items: list, schema, pe: str, schemas) -> int | None:
    shape = schemas.list_type(schema) if schema else ("atomic", ())
    item_schema = schemas.resolve(schema).get("items") if schema else None
    if pe.startswith("k:") and shape[0] != "map":  # a list the schema does not key: match the fields named
        wanted = json.loads(pe[2:])
        return next(
            (i for i, x in enumerate(items) if isinstance(x, dict) and all(x.get(k) == v for k, v in wanted.items())),
            None,
        )
    for index, item in enumerate(items):
        try:
            if _pe(item, shape if shape[0] != "atomic" else ("set", ()), item_schema, schemas, strict=False) == pe:
                return index
        except ValueError:
            continue
    return None


def remove_at(obj, path: tuple, schema=None, schemas=None) -> None:
    if path and path[-1] == ".":
        path = path[:-1]
    parent, sub = obj, schema
    for key in path[:-1]:
        parent, sub = _step(parent, sub, key, schemas)
        if parent is _MISSING or parent is None:
            return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith(("k:", "v:")) and isinstance(parent, list):
        index = _index(parent, sub, last, schemas)
        if index is not None:
            parent.pop(index)


# ---- merging -------------------------------------------------------------------------------------------------------


def structured_merge(live, config, schema, schemas):
    """``config`` merged into ``live``: maps field by field (atomic maps replaced), lists of type map or set item by
    item in the order structured-merge-diff gives them, anything else replaced."""
    if isinstance(config, dict):
        if not isinstance(live, dict) or (schema is not None and schemas.atomic_map(schema)):
            return copy.deepcopy(config)
        out = dict(live)
        for key, value in config.items():
            out[key] = structured_merge(live.get(key), value, _child(schema, key, schemas), schemas)
        return out
    if isinstance(config, list) and schema is not None and schemas.list_type(schema)[0] != "atomic":
        return _merge_list(live if isinstance(live, list) else [], config, schema, schemas)
    return copy.deepcopy(config)


def _merge_list(live: list, config: list, schema, schemas) -> list:
    """Items of both, merged by key. The order: items only the live list has stay where they were relative to
    the items they follow; the shared and new items take the configuration's order (structured-merge-diff)."""
    item_schema = schemas.resolve(schema).get("items")
    lhs = _list_items(live, schema, schemas, "", strict=False)
    rhs = _list_items(config, schema, schemas, "", strict=True)
    seen_left: dict = {}
    for pe, item in lhs:
        seen_left[pe] = None if pe in seen_left else item  # a duplicated stored item is not merged, as upstream
    seen_right = dict(rhs)
    shared = [pe for pe, _ in rhs if pe in seen_left]
    next_shared = shared.pop(0) if shared else None
    merged_right: set = set()
    out: list = []

    def merge_item(pe):
        return structured_merge(seen_left.get(pe), seen_right[pe], item_schema, schemas)

    li = ri = 0
    while li < len(lhs) or ri < len(rhs):
        if li < len(lhs) and ri < len(rhs):
            pe = lhs[li][0]
            if pe == rhs[ri][0]:
                merged_right.add(pe)
                out.append(merge_item(pe))
                li += 1
                ri += 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in seen_right and next_shared is not None and next_shared != pe:
                li += 1  # a shared item, but not the one this round wants
                continue
        if li < len(lhs):
            pe = lhs[li][0]
            if pe not in seen_right:
                out.append(copy.deepcopy(lhs[li][1]))
                li += 1
                continue
            if pe in merged_right:
                li += 1
        if ri < len(rhs):
            pe = rhs[ri][0]
            merged_right.add(pe)
            out.append(merge_item(pe))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
    return out


def drop_nulls(value):
    """``value`` without null fields, as decoding into the API's Go types leaves them out (a chart's
    ``subPath:`` with nothing after it, ``podAffinity:`` rendered empty)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


# ---- managers ------------------------------------------------------------------------------------------------------


def _entries(obj: dict) -> list[dict]:
    return [dict(e) for e in (obj.get("metadata", {}).get("managedFields") or [])]


def _sorted(entries: list[dict]) -> list[dict]:
    """managedFields in the apiserver's order: Apply before Update, then by time, manager, version, subresource."""
    return sorted(
        entries,
        key=lambda e: (
            e.get("operation", ""),
            e.get("time") or "",
            e.get("manager", ""),
            e.get("apiVersion", ""),
            e.get("subresource", ""),
        ),
    )


def _manager_text(entry: dict) -> str:
    """How a conflict names a manager: an applier by name, an updater with the version it wrote."""
    text = _json(entry.get("manager", ""))
    if entry.get("subresource"):
        text += f" with subresource {_json(entry['subresource'])}"
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion', '')}"
    return text


def _conflict_error(conflicts: list[tuple[dict, tuple]], name: str, rt_name: str) -> ApiError:
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {_manager_text(entry)}: {path_text(path)}"
    else:
        by_manager: dict[str, list[tuple]] = {}
        for entry, path in conflicts:
            by_manager.setdefault(_manager_text(entry), []).append(path)
        lines = []
        for manager in sorted(by_manager):
            lines.append(f"conflicts with {manager}:")
            lines += [f"- {path_text(p)}" for p in by_manager[manager]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return error(
        409,
        message,
        "Conflict",
        {
            "name": name,
            "kind": rt_name,
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": f"conflict with {_manager_text(entry)}",
                    "field": path_text(path),
                }
                for entry, path in conflicts
            ],
        },
    )


def _typed_error(applied: dict, exc: TypedError, api_version: str, kind: str) -> ApiError:
    meta = applied.get("metadata") or {}
    group, _, version = api_version.rpartition("/")
    where = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}; {group}/{version}, Kind={kind}"
    body = status(500, f"failed to create typed patch object ({where}): {exc}")
    body.pop("reason")  # a plain error inside the apiserver: StatusReasonUnknown
    return ApiError(body)


def server_side_apply(
    current: dict,
    applied: dict,
    *,
    manager: str,
    force: bool,
    schema: dict,
    schemas,
    api_version: str,
    rt_name: str,
    subresource: str = "",
) -> dict:
    """The object after ``manager`` applies ``applied`` over ``current`` (which may be {} for a create)."""
    try:
        new_fs = fieldset(applied, schema, schemas, strict=True)
    except TypedError as exc:
        raise _typed_error(applied, exc, api_version, applied.get("kind", "")) from None
    new_leaves = leaves(new_fs)
    entries = _entries(current)
    mine = next(
        (
            e
            for e in entries
            if e.get("manager") == manager and e.get("operation") == "Apply" and e.get("subresource", "") == subresource
        ),
        None,
    )
    old_leaves = leaves(mine.get("fieldsV1") or {}) if mine else set()
    others = [e for e in entries if e is not mine]

    merged = structured_merge(
        {k: v for k, v in current.items() if k != "metadata"},
        {k: v for k, v in applied.items() if k != "metadata"},
        schema,
        schemas,
    )
    meta_schema = _child(schema, "metadata", schemas)
    merged["metadata"] = structured_merge(
        current.get("metadata") or {}, applied.get("metadata") or {}, meta_schema, schemas
    )
    # A field this manager applied before and no longer does goes, unless someone else owns it (or a part of it).
    owned_by_others = set().union(*(leaves(e.get("fieldsV1") or {}) for e in others)) | new_leaves
    removed: list[tuple] = []
    for path in sorted(old_leaves - new_leaves, key=lambda p: (len(p) - (p[-1] == "."), p[-1] != ".")):
        # an item before its fields, which go with it
        stem = path[:-1] if path[-1] == "." else path
        if any(stem[: len(r)] == r for r in removed) or any(o[: len(stem)] == stem for o in owned_by_others):
            continue
        remove_at(merged, path, schema, schemas)
        removed.append(stem)

    merged = drop_nulls(merged)
    live, result = values(current, schema, schemas), values(merged, schema, schemas)
    conflicts: list[tuple[dict, tuple]] = []
    kept: list[dict] = []
    for entry in others:
        owned = leaves(entry.get("fieldsV1") or {})
        taken, gone = set(), set()
        for path in owned:
            if path not in result:
                if path in live:  # removed by this apply; a field applied as null stays owned
                    gone.add(path)
            elif path[-1] != "." and live.get(path, _MISSING) != result[path]:
                taken.add(path)
        conflicts += [(entry, p) for p in sorted(taken)]
        owned -= gone | (taken if force else set())
        if owned:
            kept.append({**entry, "fieldsV1": from_leaves(owned)})
    if conflicts and not force:
        raise _conflict_error(conflicts, current.get("metadata", {}).get("name", ""), rt_name)

    changed = _without_meta(merged) != _without_meta(current)
    if new_leaves:
        time = _now() if changed or not mine else mine.get("time") or _now()
        kept.append(
            {
                "manager": manager,
                "operation": "Apply",
                "apiVersion": api_version,
                "time": time,
                "fieldsType": "FieldsV1",
                "fieldsV1": new_fs,
                **({"subresource": subresource} if subresource else {}),
            }
        )
    merged["metadata"]["managedFields"] = _sorted(kept)
    return merged


def _without_meta(obj: dict) -> dict:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**obj, "metadata": meta}


def _untimed(entries) -> list:
    return [{k: v for k, v in e.items() if k != "time"} for e in entries or [] if isinstance(e, dict)]


def _valid_entries(sent) -> bool:
    if sent == [{}]:
        return True
    return (
        bool(sent)
        and isinstance(sent, list)
        and all(
            isinstance(e, dict)
            and e.get("manager") is not None
            and e.get("operation") in ("Apply", "Update")
            and isinstance(e.get("fieldsV1", {}), dict)
            for e in sent
        )
    )


def record_update(
    old: dict | None, new: dict, *, manager: str, schema: dict | None, schemas, api_version: str, subresource: str = ""
) -> None:
    """Give ``manager`` (operation Update) the fields this write set or changed, taking them from other managers —
    so a later apply by someone else conflicts, as on a real server; fields this write removed belong to nobody
    (one that was never stored, such as a field applied as null, stays with its manager, as upstream compares the
    old and new objects). A write that changes no field leaves managedFields as they were. Mutates
    ``new['metadata']``."""
    if not manager:
        return
    after = values(new, schema, schemas)
    before_values = values(old, schema, schemas) if old else {}
    if old:
        changed = {p for p, v in after.items() if p not in before_values or (p[-1] != "." and before_values[p] != v)}
    else:
        changed = set(after)

    def removed(path):
        return path in before_values and path not in after

    entries = _entries(old) if old else _entries(new)
    sent = new["metadata"].get("managedFields")
    if old is not None and _valid_entries(sent) and _untimed(sent) != _untimed(old["metadata"].get("managedFields")):
        # The request set managedFields itself (kubectl moving client-side apply's fields to its server-side
        # apply manager): the server takes them, as upstream's decodeLiveOrNew does; [{}] resets them.
        entries = [] if sent == [{}] else [dict(e) for e in sent]
    out, mine, touched = [], None, bool(changed)
    for entry in entries:
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Update"
            and entry.get("subresource", "") == subresource
        ):
            mine = entry
            continue
        before = leaves(entry.get("fieldsV1") or {})
        owned = {p for p in before - changed if not removed(p)}
        touched |= owned != before
        if owned:
            out.append(entry if owned == before else {**entry, "fieldsV1": from_leaves(owned)})
    before = leaves(mine.get("fieldsV1") or {}) if mine else set()
    owned = {p for p in before | changed if not removed(p)}
    touched |= owned != before
    if old is not None and not touched:
        new["metadata"]["managedFields"] = entries
        return
    if owned:
        time = _now() if changed or mine is None else mine.get("time") or _now()
        out.append(
            {
                "manager": manager,
                "operation": "Update",
                "apiVersion": api_version,
                "time": time,
                "fieldsType": "FieldsV1",
                "fieldsV1": from_leaves(owned),
                **({"subresource": subresource} if subresource else {}),
            }
        )
    new["metadata"]["managedFields"] = _sorted(out)
