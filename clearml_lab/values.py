"""values.yaml checks: what a learner wrote, against what the chart really has.

Problems carry the line (and column) they were found at, so the CLI prints `FILE:LINE: message` and a widget can
point at the line. A key is known when it is in the chart's defaults (subcharts included, under their name or alias),
when a template of the chart or of a subchart reads it (`.Values.a.b`, `index .Values "a" "b"`), or when the chart's
values.schema.json allows it. Reading templates is best effort: where a template passes a map on whole (`with`,
`range`, `toYaml`, `include`, `tpl`, a variable …), a key below it that nothing names is a warning, not an error.
Maps whose keys are the user's data (annotations, labels, nodeSelector, resource quantities, extra*, …) take any key.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

import yaml

from .merging import merge_values


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    severity: str  # error | warning
    message: str

    def render(self, filename: str = "values.yaml") -> str:
        return f"{filename}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class ChartKeys:
    """What a chart accepts in a values file: its defaults, the paths its templates read (and those they pass on
    whole), and its values schema (subcharts' under their keys)."""

    defaults: dict
    read: frozenset[str] = frozenset()  # dotted paths a template names, with their parents
    whole: frozenset[str] = frozenset()  # dotted paths a template hands on as a whole map (or reads as a leaf)
    schema: dict | None = None


def _flatten(known: dict, prefix: str = "") -> dict[str, object]:
    paths = {}
    for key, value in (known or {}).items():
        path = f"{prefix}{key}"
        paths[path] = value
        if isinstance(value, dict):
            paths.update(_flatten(value, path + "."))
    return paths


def _suggest(path: str, known_paths) -> str | None:
    """The closest known path: same parent first, then the same key name anywhere in the tree."""
    parent, _, leaf = path.rpartition(".")
    siblings = {p.rpartition(".")[2]: p for p in known_paths if p.rpartition(".")[0] == parent}
    close = difflib.get_close_matches(leaf, list(siblings), n=1, cutoff=0.6)  # the key names, not whole paths
    if close:
        return siblings[close[0]]
    leaves = {p: p.rpartition(".")[2] for p in known_paths}
    same = [p for p, name in leaves.items() if name.lower() == leaf.lower()]
    if same:
        return min(same, key=len)
    close = difflib.get_close_matches(leaf, set(leaves.values()), n=1, cutoff=0.8)
    if close:
        return min((p for p, name in leaves.items() if name == close[0]), key=len)
    return None


# Maps whose keys are the user's data, not the chart's schema, even when the chart gives them a default entry:
# matched (case-insensitively) against the whole dotted path.
FREE_FORM_MAPS = (
    "*.resources",
    "*.resources.*",
    "*esconfig",
    "*annotations",
    "*labels",
    "*nodeselector",
    "*.env",
    "*.extra*",
    "extra*",
    "*.additional*",
)


def _free_form(path: str) -> bool:
    lowered = path.lower()
    return any(fnmatchcase(lowered, pattern) for pattern in FREE_FORM_MAPS)


def _is_open(path: str, value) -> bool:
    # An empty mapping default (securityContext: {}, annotations: {}, esConfig: {}) takes any keys below it.
    return isinstance(value, dict) and (not value or _free_form(path))


# ---- what templates read --------------------------------------------------------------------------------------------
_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_INDEX = re.compile(r"index\s+\(?\s*\$?[A-Za-z0-9_]*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\)?((?:\s+\"[^\"]*\")+)")
_WHOLE = re.compile(
    r"\b(with|range|toYaml|toJson|toPrettyJson|include|template|tpl|omit|pick|merge|mergeOverwrite|"
    r"deepCopy|dict|list|keys|hasKey|get|values)\b|:=|="
)


def template_paths(text: str) -> tuple[set[str], set[str]]:
    """(paths read, paths passed on whole) by one template file; best effort over its `{{ … }}` actions."""
    read, whole = set(), set()
    for action in _ACTION.findall(text):
        found = set()
        for match in _INDEX.finditer(action):
            keys = re.findall(r"\"([^\"]*)\"", match.group(2))
            found.add(".".join([p for p in match.group(1).split(".") if p] + keys))
        for match in _VALUES_PATH.finditer(action):
            found.add(".".join(p for p in match.group(1).split(".") if p))
        found.discard("")
        read |= found
        if _WHOLE.search(action):
            whole |= found
    return read, whole


def effective_defaults(chart) -> dict:
    """The defaults a chart (chart.ChartFiles) renders with, its subcharts' under their keys, as helm coalesces them:
    a subchart's own values, then what the parent's values set for it."""
    values = dict(chart.values)
    for key, sub in chart.subcharts.items():
        parent = values.get(key)
        values[key] = merge_values(effective_defaults(sub), parent if isinstance(parent, dict) else {})
    return values


def keys_of_chart(chart, prefix: str = "") -> ChartKeys:
    """ChartKeys of a chart read from its package (chart.ChartFiles): the chart's and its subcharts' defaults,
    template reads and schemas, a subchart's under its key (`.Values.global` stays global)."""
    read, whole = set(), set()
    _collect_reads(chart, "", read, whole)
    schema = _combined_schema(chart)
    with_parents = set()
    for path in read:
        parts = path.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    leaves = {p for p in read if not any(q.startswith(p + ".") for q in read)}
    return ChartKeys(effective_defaults(chart), frozenset(with_parents), frozenset(whole | leaves), schema)


def _collect_reads(chart, prefix: str, read: set, whole: set) -> None:
    def place(path: str) -> str:
        return path if (path == "global" or path.startswith("global.") or not prefix) else f"{prefix}{path}"

    for text in chart.templates.values():
        r, w = template_paths(text)
        read.update(place(p) for p in r)
        whole.update(place(p) for p in w)
    for key, sub in chart.subcharts.items():
        _collect_reads(sub, f"{prefix}{key}.", read, whole)


def _combined_schema(chart) -> dict | None:
    schema = dict(chart.schema) if isinstance(chart.schema, dict) else None
    for key, sub in chart.subcharts.items():
        sub_schema = _combined_schema(sub)
        if sub_schema is None:
            continue
        schema = schema or {"type": "object", "properties": {}}
        schema["properties"] = {**(schema.get("properties") or {}), key: sub_schema}
    return schema


def _resolve(schema: dict, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        ref, seen = schema["$ref"], seen + 1
        if not ref.startswith("#/"):
            return {}
        node = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


def schema_allows(schema: dict | None, path: str) -> str | None:
    """'key' when the schema names this path, 'open' when it lets any key in there, None when it does not allow it."""
    if not schema:
        return None
    node = _resolve(schema, schema)
    for part in path.split("."):
        candidates = [node] + [
            _resolve(s, schema)
            for s in (node.get("allOf") or []) + (node.get("anyOf") or []) + (node.get("oneOf") or [])
            if isinstance(s, dict)
        ]
        nxt = None
        for candidate in candidates:
            props = candidate.get("properties") or {}
            if part in props:
                nxt = _resolve(props[part], schema)
                break
            for pattern, sub in (candidate.get("patternProperties") or {}).items():
                if re.search(pattern, part):
                    nxt = _resolve(sub, schema)
                    break
            if nxt is not None:
                break
            extra = candidate.get("additionalProperties")
            if extra is True or (isinstance(extra, dict) and extra):
                return "open"
            if (
                candidate.get("type") == "object"
                and extra is None
                and not candidate.get("properties")
                and not candidate.get("patternProperties")
            ):
                return "open"  # an object the schema leaves unspecified: its keys are the user's
        if nxt is None:
            return None
        node = nxt
    return "key"


# ---- the lint -------------------------------------------------------------------------------------------------------
def lint(text: str, known: dict | ChartKeys, *, origin: dict[str, str] | None = None) -> list[Problem]:
    """Every problem in ``text`` (a values.yaml) against the chart's keys (``known``: ChartKeys, or just the chart's
    defaults as a dict); empty means clean. ``origin`` names where a path came from (e.g. a profile), for the
    message."""
    keys = known if isinstance(known, ChartKeys) else ChartKeys(known)
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
        return [
            Problem(
                documents[1].start_mark.line + 1,
                1,
                "error",
                "a values file holds one YAML document; remove the second `---` section.",
            )
        ]
    root = documents[0]
    if not isinstance(root, yaml.MappingNode):
        return [
            Problem(
                root.start_mark.line + 1,
                root.start_mark.column + 1,
                "error",
                "a values file must be a mapping of keys (like `apiserver:`), not a list or a scalar.",
            )
        ]
    default_paths = _flatten(keys.defaults)
    suggestible = set(default_paths) | set(keys.read)
    problems: list[Problem] = []

    def known_path(path: str) -> bool:
        return path in default_paths or path in keys.read or schema_allows(keys.schema, path) is not None

    def passed_whole(path: str) -> str | None:
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            ancestor = ".".join(parts[:i])
            if ancestor in keys.whole:
                return ancestor
        return None

    def where(path: str) -> str:
        return f" (set by {origin[path]})" if origin and path in origin else ""

    def walk(node: yaml.MappingNode, prefix: str):
        previous = None
        for key_node, value_node in node.value:
            path = f"{prefix}{key_node.value}"
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            is_null = isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null")
            if not known_path(path):
                whole = passed_whole(path)
                if whole:
                    hint = _suggest(path, [p for p in suggestible if p.startswith(whole + ".")])
                    tail = f"; did you mean `{hint}`?" if hint else "; check the chart's templates."
                    problems.append(
                        Problem(
                            line,
                            column,
                            "warning",
                            f"`{path}` is not a default of this chart and no template names it, "
                            f"but a template uses `{whole}` as a whole, so it may be read"
                            f"{where(path)}{tail}",
                        )
                    )
                else:
                    slip = f"{previous}.{key_node.value}" if previous and not prefix else None
                    if slip and known_path(slip):
                        tail = f"; did you mean `{slip}`? Indent it under `{previous}:` (that key is empty now)."
                    else:
                        hint = _suggest(path, suggestible)
                        tail = (
                            f"; did you mean `{hint}`?" if hint else "; check the chart's values (`helm show values`)."
                        )
                    problems.append(
                        Problem(line, column, "error", f"`{path}` is not a key of this chart{where(path)}{tail}")
                    )
                previous = None
                continue
            previous = path if is_null else None
            default = default_paths.get(path)
            if is_null:
                if isinstance(default, dict) and default:
                    problems.append(
                        Problem(
                            line,
                            column,
                            "error",
                            f"`{path}` is empty (null): helm then deletes that whole section of the "
                            f"chart's defaults; give it values or remove the line.",
                        )
                    )
                elif default is not None:  # a null where the chart has null changes nothing
                    problems.append(
                        Problem(
                            line,
                            column,
                            "warning",
                            f"`{path}` is empty (null): helm removes the chart's default for it.",
                        )
                    )
            elif isinstance(value_node, yaml.MappingNode):
                if path in default_paths and not isinstance(default, dict):
                    continue  # a list, scalar or null default: a mapping replaces it whole
                if path.lower().endswith(".resources") or path == "resources":
                    problems.extend(_resources(value_node, path))  # the user's quantities: never an error
                    continue
                if _is_open(path, default) or _free_form(path) or schema_allows(keys.schema, path) == "open":
                    continue
                if path not in default_paths and path in keys.whole and not _has_named_children(path, keys):
                    continue  # a map a template reads whole (toYaml …) and nothing names inside
                walk(value_node, path + ".")

    walk(root, "")
    return problems


RESOURCE_KEYS = ("limits", "requests", "claims")  # what a container's resources hold (Kubernetes API)


def _resources(node: yaml.MappingNode, path: str) -> list[Problem]:
    """A resources map takes any key (its quantities are the user's); a key Kubernetes does not know there is a
    warning with the closest one, as helm passes the map to the API server as it is."""
    found = []
    for key_node, _ in node.value:
        if key_node.value not in RESOURCE_KEYS:
            close = difflib.get_close_matches(key_node.value, RESOURCE_KEYS, n=1, cutoff=0.6)
            hint = f"; did you mean `{path}.{close[0]}`?" if close else f" ({', '.join(RESOURCE_KEYS)})."
            found.append(
                Problem(
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    "warning",
                    f"`{path}.{key_node.value}` is not a field of a container's resources{hint}",
                )
            )
    return found


def _has_named_children(path: str, keys: ChartKeys) -> bool:
    return any(p.startswith(path + ".") for p in keys.read) or bool(
        keys.schema and schema_allows(keys.schema, path) == "key"
    )
