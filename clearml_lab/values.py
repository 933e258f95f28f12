"""values.yaml checks: what a learner wrote, against what the chart really has.

Problems carry the line (and column) they were found at, so the CLI prints `FILE:LINE: message` and a widget can
point at the line. Known keys come from the chart's own defaults (subcharts included, under their names).
"""
from __future__ import annotations

import difflib
from fnmatch import fnmatch
from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    severity: str  # error | warning
    message: str

    def render(self, filename: str = "values.yaml") -> str:
        return f"{filename}:{self.line}:{self.column}: {self.severity}: {self.message}"


def _flatten(known: dict, prefix: str = "") -> dict[str, object]:
    paths = {}
    for key, value in (known or {}).items():
        path = f"{prefix}{key}"
        paths[path] = value
        if isinstance(value, dict):
            paths.update(_flatten(value, path + "."))
    return paths


def _suggest(path: str, known_paths: dict) -> str | None:
    """The closest known path: same parent first, then the same key name anywhere in the tree."""
    parent, _, leaf = path.rpartition(".")
    siblings = [p for p in known_paths if p.rpartition(".")[0] == parent]
    close = difflib.get_close_matches(path, siblings, n=1, cutoff=0.75)
    if close:
        return close[0]
    leaves = {p: p.rpartition(".")[2] for p in known_paths}
    same = [p for p, name in leaves.items() if name.lower() == leaf.lower()]
    if same:
        return min(same, key=len)
    close = difflib.get_close_matches(leaf, set(leaves.values()), n=1, cutoff=0.8)
    if close:
        return min((p for p, name in leaves.items() if name == close[0]), key=len)
    return None


# Maps whose keys are the user's data, not the chart's schema, even when the chart gives them a default entry:
# resource quantities (cpu, memory, ephemeral-storage, hugepages-2Mi, ...), config files by name, labels.
FREE_FORM_MAPS = ("*.resources.limits", "*.resources.requests", "*esConfig", "*.annotations", "*.labels",
                  "*.nodeSelector", "*.podAnnotations", "*.podLabels")


def _is_open(path: str, value) -> bool:
    # An empty mapping default (securityContext: {}, annotations: {}, esConfig: {}) takes any keys below it.
    return isinstance(value, dict) and (not value or any(fnmatch(path, pattern) for pattern in FREE_FORM_MAPS))


def lint(text: str, known: dict) -> list[Problem]:
    """Every problem in ``text`` (a values.yaml) against the chart defaults ``known``; empty means clean."""
    try:
        documents = list(yaml.compose_all(text))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return [Problem(line, column, "error", f"YAML error: {err.problem or err.context}; fix the syntax here.")]
    documents = [d for d in documents if d is not None]
    if not documents:
        return []
    if len(documents) > 1:
        return [Problem(documents[1].start_mark.line + 1, 1, "error",
                        "a values file holds one YAML document; remove the second `---` section.")]
    root = documents[0]
    if not isinstance(root, yaml.MappingNode):
        return [Problem(root.start_mark.line + 1, root.start_mark.column + 1, "error",
                        "a values file must be a mapping of keys (like `apiserver:`), not a list or a scalar.")]
    known_paths = _flatten(known)
    problems: list[Problem] = []

    def walk(node: yaml.MappingNode, prefix: str):
        for key_node, value_node in node.value:
            path = f"{prefix}{key_node.value}"
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if path not in known_paths:
                hint = _suggest(path, known_paths)
                tail = f"; did you mean `{hint}`?" if hint else "; check the chart's values (`helm show values`)."
                problems.append(Problem(line, column, "error", f"`{path}` is not a key of this chart{tail}"))
                continue
            default = known_paths[path]
            if isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null"):
                if isinstance(default, dict) and default:
                    problems.append(Problem(line, column, "error",
                                            f"`{path}` is empty (null): helm then deletes that whole section of the "
                                            f"chart's defaults; give it values or remove the line."))
                else:
                    problems.append(Problem(line, column, "warning",
                                            f"`{path}` is empty (null): helm removes the chart's default for it."))
            elif isinstance(value_node, yaml.MappingNode) and not _is_open(path, default):
                walk(value_node, path + ".")

    walk(root, "")
    return problems
