"""The lab's values in layers: the profile, then the chart version's install fixes, then the learner's own values —
what they typed in notebook 03's form (or passed as overrides) and what they changed in values.yaml by hand.

Writing values.yaml again (the values step's Run) keeps the learner's layer: the file says which profile and chart
it was written for (its first line), so any key whose value differs from what that profile gave is the learner's.
The form, which shows the learner's layer, replaces it as a whole when it writes (so a key can be removed there).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import LabError
from .merging import merge_values
from .profiles import profile_values

TITLE = "# ClearML on OpenShift — profile {profile}, chart {chart}"
_TITLE_RE = re.compile(r"^# ClearML on OpenShift — profile (\S+), chart ([0-9][^\s,]*)", re.M)


def _merge(base: dict, overlay: dict) -> dict:

    return merge_values(base, overlay)


def base_values(profile: str, chart_version: str) -> dict:
    """The profile's values with the chart version's install fixes (profiles.profile_values)."""
    return profile_values(profile, chart_version)


def changed_from(values: dict, base: dict) -> dict:
    """The keys of ``values`` whose value is not what ``base`` gives (nested mappings compared key by key)."""
    changed = {}
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            inner = changed_from(value, base[key])
            if inner:
                changed[key] = inner
        elif key not in base or base[key] != value:
            changed[key] = copy.deepcopy(value)
    return changed


def leaves(values: dict, prefix: str = "") -> list[str]:
    """Dotted keys of the values' leaves, e.g. fileserver.storage.data.size."""
    found = []
    for key, value in values.items():
        if isinstance(value, dict) and value:
            found += leaves(value, f"{prefix}{key}.")
        else:
            found.append(f"{prefix}{key}")
    return found


def written_for(text: str) -> tuple[str, str] | None:
    """(profile, chart version) a values.yaml written by the lab names in its first line, if it does."""
    match = _TITLE_RE.search(text)
    return (match.group(1), match.group(2)) if match else None


def read_file(path: Path) -> dict | None:
    """The values in ``path`` (None if there is no file); a file that does not parse is an error, never replaced."""
    if not path.exists():
        return None
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise LabError(
            f"{path} is not valid YAML{where}: fix it there (your edits are kept), or delete it to start "
            f"again from the profile; then run `clearml-lab run values` (notebook 03)."
        ) from None
    if not isinstance(values, dict):
        raise LabError(
            f"{path} holds no mapping of keys: fix or delete it, then run `clearml-lab run values` (notebook 03)."
        )
    return values


@dataclass(frozen=True)
class Layers:
    profile: str
    chart_version: str
    base: dict  # the profile, then the install fixes
    learner: dict  # the learner's values: the form's, then hand edits of values.yaml
    source: str = ""  # where the chart comes from, for the title line

    @property
    def values(self) -> dict:
        return _merge(self.base, self.learner)

    @property
    def learner_keys(self) -> list[str]:
        return leaves(self.learner)

    def text(self) -> str:
        title = TITLE.format(profile=self.profile, chart=self.chart_version)
        header = [
            title + (f" from {self.source}" if self.source else ""),
            "# Written by clearml-lab from the profile, the chart version's fixes and your values; edit it, then",
            "# run the values step again: the keys you changed are kept (they are listed here).",
        ]
        if self.learner_keys:
            header.append("# Your values: " + ", ".join(self.learner_keys))
        return "\n".join(header) + "\n" + yaml.safe_dump(self.values, sort_keys=False)


def _chart_version(lab) -> str:
    return getattr(lab, "chart_version", None) or lab.settings.chart_version


def learner_values(lab) -> dict:
    """The learner's layer: the settings' overrides (what the form saved), then the keys of values.yaml that differ
    from what the profile it was written for gives (hand edits, and the form's values written into it)."""
    learner = copy.deepcopy(lab.settings.overrides or {})
    current = read_file(lab.values_file)
    if current is None:
        return learner
    was = written_for(lab.values_file.read_text())
    try:
        then = base_values(*was) if was else base_values(lab.settings.profile, _chart_version(lab))
    except LabError:  # a profile or version the lab no longer knows: compare with today's
        then = base_values(lab.settings.profile, _chart_version(lab))
    return _merge(learner, changed_from(current, then))


def layers(lab, *, form: dict | None = None) -> Layers:
    """The lab's values now. ``form``: the learner's values as the form holds them, replacing the earlier ones;
    otherwise the learner's layer is learner_values(lab)."""
    s = lab.settings
    chart_version = _chart_version(lab)
    source = str(getattr(lab, "chart_repo", "") or "")
    base = base_values(s.profile, chart_version)
    learner = copy.deepcopy(form) if form is not None else learner_values(lab)
    return Layers(s.profile, chart_version, base, learner, source)
