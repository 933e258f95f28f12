"""`clearml-lab`: the command line over the library.

Each concern registers its own subcommands (``register(subparsers, common)``) so this file stays a table.
Global options are accepted before or after the command name: they are defined on a parent parser that
every subcommand inherits, with SUPPRESS defaults so a value given before the command is not overwritten.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, chart, chart_cli, commands, export_cli, plan_scc_cli, workshop_cli
from .errors import LabError, UsageError
from .practice import cli as practice_cli  # the one place the library reaches the practice cluster's code

GLOBAL_OPTIONS = (
    ("--kubeconfig", "FILE", "kubeconfig to use (else $KUBECONFIG, else the practice cluster's own)"),
    ("--context", "NAME", "kubeconfig context to use"),
    (
        "--namespace",
        "NS",
        "project for ClearML (else the context's namespace, else your workshop project, else clearml)",
    ),
    ("--release", "NAME", "helm release name (default clearml)"),
    (
        "--chart-repo",
        "URL",
        "Helm repository of the ClearML chart, e.g. a mirror (else $CLEARML_LAB_CHART_REPO, else "
        "the practice cluster's own on it, else https://clearml.github.io/clearml-helm-charts)",
    ),
    (
        "--chart-version",
        "V",
        "ClearML chart version to pin (default: the newest the repository serves that fits "
        "the cluster; `clearml-lab charts` lists them)",
    ),
    ("--profile", "seed|hardened", "values profile"),
)


def _common_parser(suppress: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    for flag, metavar, help_text in GLOBAL_OPTIONS:
        kwargs = {"metavar": metavar, "help": help_text}
        if suppress:
            kwargs["default"] = argparse.SUPPRESS
        if flag == "--profile":
            kwargs["choices"] = ("seed", "hardened")
        parser.add_argument(flag, **kwargs)
    return parser


def _modules():
    # Each concern owns its subcommands; imported here so the parser is built from one table.
    return (commands, chart_cli, plan_scc_cli, practice_cli, workshop_cli, export_cli)


def _version(args: argparse.Namespace) -> int:
    print(f"clearml-lab {__version__}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clearml-lab",
        description="Deploy the ClearML server on OpenShift, one checked step at a time.",
        parents=[_common_parser(suppress=False)],
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    common = _common_parser(suppress=True)
    version = subparsers.add_parser("version", parents=[common], help="print the lab's version")
    version.set_defaults(handler=_version)
    for module in _modules():
        module.register(subparsers, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage message
        return 2 if exc.code not in (0, None) else 0
    chart.progress = lambda what: print(what, file=sys.stderr, flush=True)  # a slow chart download says so
    try:
        return int(args.handler(args) or 0)
    except UsageError as err:
        print(f"clearml-lab: {err}", file=sys.stderr)
        return 2
    except LabError as err:
        print(f"clearml-lab: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("clearml-lab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
