"""Kubernetes versions against a chart's `kubeVersion` constraint, as helm judges them."""

from __future__ import annotations

import re

from packaging.specifiers import SpecifierSet
from packaging.version import Version


def core(version: str) -> Version:
    """v1.28.2-3598+6e2789bbd58938-dirty -> 1.28.2 (OpenShift's build suffixes are not releases)."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    return Version(".".join(g or "0" for g in match.groups()))


def satisfies(version: str, constraint: str) -> bool:
    """True if ``version`` is inside a helm constraint like `>= 1.21.0-0 < 1.33.0-0` (AND of space-separated terms).

    The `-0` suffix only lets pre-releases match, and ``core`` already drops pre-release parts."""
    terms = re.findall(r"(>=|<=|!=|==|>|<|=)\s*v?([0-9][0-9A-Za-z.+-]*)", constraint)
    spec = SpecifierSet(",".join(f"{'==' if op == '=' else op}{core(v)}" for op, v in terms))
    return core(version) in spec
