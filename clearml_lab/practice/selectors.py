"""Label and field selectors as the API server parses them."""

from __future__ import annotations

import re
from collections.abc import Callable

from .status import bad_request

_SET = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def label_matcher(selector: str | None) -> Callable[[dict], bool]:
    if not selector or not selector.strip():
        return lambda obj: True
    tests = []
    for part in _split(selector):
        if m := _EQ.match(part):
            key, op, value = m.groups()
            tests.append(lambda labels, k=key, v=value, neg=op == "!=": (labels.get(k) == v) != neg)
        elif m := _SET.match(part):
            bang, key, op, values = m.groups()
            if op:
                wanted = {v.strip() for v in values.split(",") if v.strip()}
                if op == "in":
                    tests.append(lambda labels, k=key, w=wanted: labels.get(k) in w)
                else:
                    tests.append(lambda labels, k=key, w=wanted: labels.get(k) not in w)
            else:
                tests.append(lambda labels, k=key, neg=bool(bang): (k in labels) != neg)
        else:
            raise bad_request(f"unable to parse requirement: invalid label selector: {part.strip()!r}")
    return lambda obj: all(t(obj.get("metadata", {}).get("labels") or {}) for t in tests)


def _field(obj: dict, path: str):
    cur = obj
    for key in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def field_matcher(selector: str | None) -> Callable[[dict], bool]:
    if not selector or not selector.strip():
        return lambda obj: True
    tests = []
    for part in selector.split(","):
        m = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid field selector: {part.strip()!r}")
        path, op, value = m.groups()
        tests.append(lambda obj, p=path, v=value, neg=op == "!=": (_field(obj, p) == v) != neg)
    return lambda obj: all(t(obj) for t in tests)
