"""Values profiles for the clearml chart, as data: `seed` (the recipe's values) and `hardened` (least privilege).

Each profile is `profiles/<name>.yaml` (a description and its values). `profiles/_install_fixes.yaml` holds what a
chart version needs to install at all (e.g. the bitnamilegacy images for charts up to 7.14.6); every profile gets
the fixes whose chart-version range includes the chart being installed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .errors import UsageError
from .merging import merge_values
from .values import lint

PROFILES_DIR = Path(__file__).parent / "profiles"
FIXES_FILE = PROFILES_DIR / "_install_fixes.yaml"


@dataclass(frozen=True)
class InstallFix:
    """Values a range of chart versions needs, and why."""

    why: str
    values: dict


def profile_names() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.name.startswith("_"))


def profile_description(profile: str) -> str:
    return _profile(profile)["description"].strip()


def profile_values(profile: str, chart_version: str) -> dict:
    """The values to install `chart_version` of the clearml chart with, for this profile (a fresh dict)."""
    values = copy.deepcopy(_profile(profile)["values"])
    for fix in install_fixes(chart_version):
        values = merge_values(values, fix.values)
    return values


def install_fixes(chart_version: str) -> list[InstallFix]:
    """The fixes that apply to this chart version, in file order."""
    version = _version(chart_version)
    found = []
    for fix in _load(FIXES_FILE)["fixes"]:
        bounds = fix.get("chart_versions") or {}
        low, high = bounds.get("min"), bounds.get("max")
        if (low is None or _version(str(low)) <= version) and (high is None or version <= _version(str(high))):
            found.append(InstallFix(" ".join(fix["why"].split()), copy.deepcopy(fix["values"])))
    return found


def _profile(profile: str) -> dict:
    names = profile_names()
    if profile not in names:
        raise UsageError(f"values profile {profile!r} is unknown: choose one of {', '.join(names)}.")
    return _load(PROFILES_DIR / f"{profile}.yaml")


@cache
def _load_cached(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _load(path: Path) -> dict:
    return copy.deepcopy(_load_cached(path))


def _version(chart_version: str) -> tuple[int, int, int]:
    """major.minor.patch of any version a repository serves (a pre-release such as 7.15.0-rc1 counts as 7.15.0)."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?", str(chart_version).strip())
    if not match:
        raise UsageError(f"chart version {chart_version!r} is not a version like 7.14.4: give major.minor.patch.")
    return tuple(int(part) for part in match.groups())


def profile_problems(profile: str, chart_version: str, keys) -> list:
    """The keys this profile sets (with its install fixes) that the chart version does not have, as values.Problem
    lines of the profile's values (``keys``: values.ChartKeys of that version, from chart.chart_keys)."""
    text = yaml.safe_dump(profile_values(profile, chart_version), sort_keys=False)
    return [p for p in lint(text, keys) if p.severity == "error"]
