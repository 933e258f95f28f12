"""The recipe's subcommands: steps, run, check, undo, lint-values, diagnose, status."""

from __future__ import annotations

import argparse
import sys

from . import diagnose, progress
from .chart_cli import lint_values  # the chart it lints against comes from the chart repository (chart_cli)
from .equivalents import with_equivalent


def lab_from(args: argparse.Namespace):
    # Here, not at the top: the lab loads the kubernetes client (about 0.5 s), which `--help` need not pay.
    from .options import lab_from as chosen_lab

    return chosen_lab(args)


def _print_line(line: str) -> None:
    # On a terminal the live progress line is cleared first; the ticker writes it again below.
    print(("\r\033[K" if sys.stdout.isatty() else "") + f"  | {line}", flush=True)


# Steps that act on or read the project: with no project they fail at once, naming the step that makes it.
NEEDS_PROJECT = {"scc", "install", "routes", "verify"}
NEEDS_VALUES = {"scc"}  # its grants are computed from values.yaml (install says so itself)


def _no_project(lab) -> str | None:
    """One sentence when the lab's project does not exist (or this login cannot see it), else None."""
    from .steps.base import missing_project  # loads the kubernetes client (about 0.5 s): only when this command runs

    missing = missing_project(lab, "project", "check")
    return f"{missing.summary[:-1]}: {missing.fix}." if missing else None


def _steps(args) -> int:
    from . import steps  # loads the kubernetes client (about 0.5 s): only when this command runs

    for i, step in enumerate(steps.STEPS):
        print(f"{i}. {step.name:<14} {step.title}")
    return 0


def _act(action: str):
    def handler(args) -> int:
        # Here, not at the top: steps and workshop_mode load the kubernetes client (about 0.5 s).
        from . import steps
        from .steps.base import StepResult, fix_by, missing_project
        from .workshop_mode import record_step, seat_or_none

        lab = lab_from(args)
        print(f"acting on {lab.describe()}", flush=True)
        seat = seat_or_none(lab)
        if seat:
            print(seat.banner(), flush=True)
        chosen = steps.select(args.step, reverse=(action == "undo"))
        failed = 0
        for step in chosen:
            absent = (
                missing_project(lab, step.name, action) if action != "undo" and step.name in NEEDS_PROJECT else None
            )
            if absent is None and action == "run" and step.name in NEEDS_VALUES and not lab.values_file.exists():
                absent = StepResult(
                    step.name,
                    action,
                    False,
                    f"there is no values.yaml yet ({lab.values_file}).",
                    fix=fix_by("values"),
                    target=lab.describe(),
                )
            with progress.TerminalProgress(f"{action} {step.name}"):
                if absent:
                    result = absent
                elif action == "run":
                    result = step.run(lab, on_line=_print_line if args.verbose else None)
                elif action == "check":
                    result = step.check(lab)
                else:
                    result = step.undo(lab, on_line=_print_line if args.verbose else None)
            print(result.render_text().replace(f"\n  on {result.target}", ""), flush=True)
            if seat and action == "run":  # the instructor's progress view reads what the learner tried (#17)
                record_step(lab, result)
            if not result.ok:
                failed += 1
                if action != "check":  # a later step cannot succeed on a failed one; checks all report
                    return 1
        return 1 if failed else 0

    return handler


def _lint_values(args) -> int:
    return lint_values(args)


def _diagnose(args) -> int:
    lab = lab_from(args)
    print(f"diagnosing project {lab.namespace} on {lab.target.describe()}")
    absent = _no_project(lab)
    if absent:
        print(absent)
        return 1
    from . import coverage  # loads the kubernetes client (about 0.5 s): only when this command runs

    found = diagnose.gather(lab.kube(), lab.namespace)
    rest = coverage.workloads(lab.kube(), lab.namespace, found)  # every workload no known problem names
    for d in found:
        print(f"- {with_equivalent(d.render())}  (step: {d.step})")
    for verdict in rest:
        print(f"- {verdict.render()}")
    doomed = [v for v in rest if v.ok is False]
    if not found and not doomed:
        print(
            "no known problem found."
            if rest
            else f"no workloads in project {lab.namespace} yet: run `clearml-lab run install` (notebook 05)."
        )
    return 1 if found or doomed else 0


def _status(args) -> int:
    from . import topology  # loads the kubernetes client (about 0.5 s): only when this command runs

    lab = lab_from(args)
    # stdout keeps one line per workload (for scripts); which cluster and project it read goes to stderr.
    print(f"project {lab.namespace} on {lab.target.describe()}:", file=sys.stderr, flush=True)
    absent = _no_project(lab)
    if absent:
        print(absent, file=sys.stderr)
        return 1
    lines = topology.status_lines(topology.snapshot(lab.kube(), lab.namespace))
    for line in lines:
        print(line)
    if not lines:
        print(
            f"no workloads in project {lab.namespace} yet: run `clearml-lab run install` (notebook 05).",
            file=sys.stderr,
        )
    return 0


def register(subparsers, common) -> None:
    sub = subparsers.add_parser("steps", parents=[common], help="list the recipe's steps")
    sub.set_defaults(handler=_steps)
    for action, help_text in (
        ("run", "run a step (or all), idempotently"),
        ("check", "check a step (or all) like an examiner"),
        ("undo", "undo a step (or all, in reverse)"),
    ):
        sub = subparsers.add_parser(action, parents=[common], help=help_text)
        sub.add_argument("step", metavar="STEP|all")
        sub.add_argument("-v", "--verbose", action="store_true", help="stream helm and oc output")
        sub.set_defaults(handler=_act(action))
    sub = subparsers.add_parser("lint-values", parents=[common], help="check a values.yaml against the chart")
    sub.add_argument("file", metavar="FILE")
    sub.set_defaults(handler=_lint_values)
    sub = subparsers.add_parser("diagnose", parents=[common], help="explain what is wrong in the project")
    sub.set_defaults(handler=_diagnose)
    sub = subparsers.add_parser("status", parents=[common], help="one line per workload: KIND/NAME READY/TOTAL SCC")
    sub.set_defaults(handler=_status)
