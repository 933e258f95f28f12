"""Field errors rendered the way Kubernetes' apimachinery prints them, so messages match OpenShift's."""

from __future__ import annotations

from dataclasses import dataclass, field


def go_quote(text: str) -> str:
    """Go's %q for the plain strings that occur here (names, profiles, capabilities)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def go_value(value) -> str:
    """The `Invalid value: <v>` part: simple types plainly, strings quoted, nil as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    raise TypeError(f"no Go rendering for {value!r}")


def go_int64s(values, plain: bool = False) -> str:
    """Go's %#v of a []int64 ([]int64{1001}); newer releases print %v ([1001])."""
    if plain:
        return "[" + " ".join(str(int(v)) for v in values or []) + "]"
    if values is None:
        return "[]int64(nil)"
    return "[]int64{" + ", ".join(str(int(v)) for v in values) + "}"


def go_capabilities(values, plain: bool = False) -> str:
    """Go's %#v of a []core.Capability ([]core.Capability{"KILL"}); newer releases print %v ([KILL])."""
    if plain:
        return "[" + " ".join(values or []) + "]"
    if values is None:
        return "[]core.Capability(nil)"
    return "[]core.Capability{" + ", ".join(go_quote(v) for v in values) + "}"


@dataclass(frozen=True)
class FieldError:
    """One entry of the rejection list. ``rule`` and ``params`` let the planner explain it in plain words."""

    path: str
    kind: str  # "Invalid" | "Required" | "Forbidden"
    detail: str = ""
    value: str | None = None  # already rendered with go_value / go_int64s / go_capabilities
    rule: str = ""
    scc: str | None = None
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        if self.kind == "Invalid":
            body = f"Invalid value: {self.value}"
        elif self.kind == "Required":
            body = "Required value"
        else:
            body = self.kind
        if self.detail:
            body += f": {self.detail}"
        return f"{self.path}: {body}"


def aggregate(errors) -> str:
    """Like utilerrors.NewAggregate(...).Error(): duplicates once, brackets only for more than one entry."""
    seen: list[str] = []
    for error in errors:
        text = str(error)
        if text not in seen:
            seen.append(text)
    if not seen:
        return "<nil>"
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"
