"""YAML dumps that keep the comments written above mapping keys in the source files.

The practice chart's values.yaml is merged from a shared file and a per-version overlay and then dumped, which
would lose the comments that tell a learner what a key does here (or that it is accepted without effect, as in
`helm show values`). These helpers read the comments per key path from the sources and put them back above the
same keys in the dump. Only comments directly above a key, at the key's own indentation, belong to it; a blank
line ends them, so a file's opening comment stays with the file.
"""
from __future__ import annotations

import yaml

KeyPath = tuple[str, ...]


class _NoAliasDumper(yaml.SafeDumper):
    """Writes shared sub-values out in full: a values.yaml a learner reads should not use anchors."""

    def ignore_aliases(self, data):
        return True


def _literal_when_multiline(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # A file embedded in values (elasticsearch.yml) reads as the file it is, not as one quoted line.
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_NoAliasDumper.add_representer(str, _literal_when_multiline)


def key_comments(text: str) -> dict[KeyPath, list[str]]:
    """The comment lines written right above each mapping key of a YAML document, by the key's path."""
    root = yaml.compose(text)
    if root is None:
        return {}
    lines = text.splitlines()
    found: dict[KeyPath, list[str]] = {}

    def walk(node, path: KeyPath, seen: frozenset):
        if not isinstance(node, yaml.MappingNode) or id(node) in seen:
            return
        for key, value in node.value:
            here = path + (str(key.value),)
            prefix = " " * key.start_mark.column + "#"
            above, row = [], key.start_mark.line - 1
            while row >= 0 and lines[row].startswith(prefix):
                above.insert(0, lines[row].strip())
                row -= 1
            if above:
                found[here] = above
            walk(value, here, seen | {id(node)})

    walk(root, (), frozenset())
    return found


def dump(data: dict, comments: dict[KeyPath, list[str]]) -> str:
    """`data` as block YAML without anchors, each key preceded by its comments, multi-line top-level sections set
    apart by blank lines. Loading the result gives `data` back."""
    dumped = yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, default_flow_style=False, width=120)
    out: list[str] = []
    stack: list[tuple[int, str]] = []  # (indentation, key) of the mapping keys enclosing the current line
    block_scalar_indent: int | None = None  # inside a literal/folded scalar started by a key at this indentation
    for line in dumped.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if block_scalar_indent is not None:
            if not line.strip() or indent > block_scalar_indent:
                out.append(line)
                continue
            block_scalar_indent = None
        key = _key_of(line)
        if key is not None:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, key))
            above = comments.get(tuple(k for _, k in stack), [])
            if indent == 0 and out and (above or out[-1].startswith(" ")):
                out.append("")  # a blank line around each multi-line or commented top-level section
            out.extend(" " * indent + comment for comment in above)
            if line.rstrip().endswith(("|", "|-", "|+", ">", ">-", ">+")):
                block_scalar_indent = indent
        out.append(line)
    return "\n".join(out) + "\n"


def _key_of(line: str) -> str | None:
    """The mapping key a dumped line starts with, or None (sequence items, scalars, continuation lines)."""
    body = line.strip()
    if not body or body.startswith(("-", "#")):
        return None
    head, sep, _ = body.partition(": ")
    if not sep:
        if not body.endswith(":"):
            return None
        head = body[:-1]
    try:
        key = yaml.safe_load(head)
    except yaml.YAMLError:
        return None
    return str(key) if key is not None else None
