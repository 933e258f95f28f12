"""JSON patch, JSON merge patch and strategic merge patch (merge keys from the schemas)."""

from __future__ import annotations

import copy

import jsonpatch

from .status import bad_request, error


def json_patch(obj: dict, ops) -> dict:
    if not isinstance(ops, list):
        raise bad_request("a JSON patch must be a list of operations")
    try:
        return jsonpatch.apply_patch(obj, ops)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
        raise error(422, f"the JSON patch could not be applied: {exc}", "Invalid") from None


def merge_patch(target, patch):
    """RFC 7386: maps merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge_patch(target: dict, patch: dict, schema: dict | None, schemas) -> dict:
    """Kubernetes' strategic merge: like a merge patch, except that lists the schema marks
    ``x-kubernetes-patch-strategy: merge`` merge item by item on their merge key, and the ``$patch``,
    ``$setElementOrder``, ``$retainKeys`` and ``$deleteFromPrimitiveList`` directives are honoured."""
    if not isinstance(patch, dict):
        raise bad_request("a strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch, schema, schemas)


def _smp_map(target: dict, patch: dict, schema, schemas) -> dict:
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    out = dict(target)
    retain = patch.get("$retainKeys")
    orders = {key.split("/", 1)[1]: value for key, value in patch.items() if key.startswith("$setElementOrder/")}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            out[name] = [x for x in out.get(name) or [] if x not in value]
            continue
        sub = schemas.child(schema, key) if schema is not None else None
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                out.pop(key, None)
            elif _strategy(sub, schemas) == {"replace"}:  # e.g. a PodDisruptionBudget's selector: never merged
                out[key] = {k: copy.deepcopy(v) for k, v in value.items() if k != "$patch"}
            else:
                out[key] = _smp_map(out.get(key) if isinstance(out.get(key), dict) else {}, value, sub, schemas)
        elif isinstance(value, list) and sub is not None:
            out[key] = _smp_list(out.get(key) or [], value, sub, schemas)
        else:
            out[key] = copy.deepcopy(value)
    for key, order in orders.items():
        if isinstance(out.get(key), list) and isinstance(order, list):
            out[key] = _in_element_order(out[key], order)
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _strategy(schema: dict | None, schemas) -> set[str]:
    # The extension sits beside the field's $ref (a PodDisruptionBudget's selector), or in the definition itself.
    if schema is None:
        return set()
    declared = schema.get("x-kubernetes-patch-strategy") or schemas.resolve(schema).get("x-kubernetes-patch-strategy")
    return set(filter(None, (declared or "").split(",")))


def _in_element_order(items: list, order: list) -> list:
    """``items`` reordered by a ``$setElementOrder`` list, as the apiserver does: items the order does not name
    keep their relative order and come first, then the named ones in the order given; names with no item are
    ignored. The order names list items of maps by their merge key ({name: A}) and primitives by value. (helm 3
    and client-side kubectl apply send it with every change to such a list, e.g. an env var inserted between two.)"""
    merge_key = next(iter({k for entry in order if isinstance(entry, dict) for k in entry}), None)

    def name(item):
        if merge_key is None:
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = [name(entry) for entry in order]
    unnamed = [item for item in items if name(item) not in wanted]
    named = [item for each in wanted for item in items if name(item) == each]
    return unnamed + named


def _smp_list(target: list, patch: list, schema: dict, schemas) -> list:
    resolved = schemas.resolve(schema)
    strategy = resolved.get("x-kubernetes-patch-strategy", "")
    key = resolved.get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(","):
        return [x for x in copy.deepcopy(patch) if not (isinstance(x, dict) and x.get("$patch"))]
    if not key:  # a list of scalars merged as a set
        return list(target) + [x for x in patch if x not in target]
    item_schema = resolved.get("items")
    out = [copy.deepcopy(x) for x in target]
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"the items of a list merged on {key!r} must be objects")
        if item.get("$patch") == "replace":
            return [x for x in patch if x.get("$patch") != "replace"]
        index = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                out.pop(index)
        elif index is None:
            out.append(_smp_map({}, item, item_schema, schemas))
        else:
            out[index] = _smp_map(out[index], item, item_schema, schemas)
    return out
