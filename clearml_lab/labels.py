"""Kubernetes label selectors, shared by the practice controllers and the topology model."""

from __future__ import annotations

# matchExpressions operator -> whether (key present?, value) satisfies it
_OPERATORS = {
    "In": lambda present, value, values: present and value in values,
    "NotIn": lambda present, value, values: not present or value not in values,
    "Exists": lambda present, value, values: present,
    "DoesNotExist": lambda present, value, values: not present,
}


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A LabelSelector (matchLabels + matchExpressions). An empty or missing selector matches nothing, as for
    workload controllers (and so a workload without a selector attaches no pods); an unknown operator, nothing."""
    selector, labels = selector or {}, labels or {}
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    return all(
        _OPERATORS.get(e.get("operator"), lambda *_: False)(
            e.get("key") in labels, labels.get(e.get("key")), e.get("values") or []
        )
        for e in expressions
    )
