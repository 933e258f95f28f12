"""Helm's merge of values files, shared by the lab (profiles, the learner's layers) and the practice cluster (its
charts' values overlays)."""

from __future__ import annotations

import copy


def merge_values(base: dict, overlay: dict) -> dict:
    """overlay on base, as helm merges values files: nested mappings merge, anything else is replaced; a fresh
    structure, so neither input is changed."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
