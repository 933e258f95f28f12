"""`clearml-lab charts`: the versions of the clearml chart the repository serves, and whether each fits the cluster.

Also where the commands that read the chart without running a step (charts, lint-values, plan-scc) get it from:
``chart_choice(args)`` — the repository (--chart-repo, $CLEARML_LAB_CHART_REPO, the practice cluster's own when it
is the target and running, else the public one), the version (--chart-version, the lab's kept version, else the
newest that fits the cluster) and the cluster's Kubernetes version when there is a cluster to ask.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from . import chart
from .chart import source_note
from .errors import UsageError
from .values import lint


@dataclass(frozen=True)
class ChartChoice:
    repo: str
    version: str | None  # None only when the repository could not be read
    kube_version: str | None  # the target cluster's, None with no cluster
    target: str  # which cluster, in words ("no cluster" when none answers)
    lab: object = None

    def note(self) -> str | None:
        return source_note(self.repo)


def _lab(args):
    """The lab the options choose, when its cluster answers; else None (no cluster chosen, or it is not running)."""
    from .options import lab_from  # loads the kubernetes client (about 0.5 s): only when this command runs

    try:
        lab = lab_from(args)
        lab.server_version()
        return lab
    except Exception:  # noqa: BLE001 — no cluster is a normal answer here: these commands work without one
        return None


def chart_choice(args: argparse.Namespace, *, resolve_version: bool = True) -> ChartChoice:
    lab = _lab(args)
    explicit = getattr(args, "chart_repo", None)
    if lab is not None:
        repo = chart.repo_url(explicit) if explicit else lab.chart_repo
        kube = lab.server_version()
        target = f"{lab.target.describe()} (Kubernetes {kube})"
    else:
        repo, kube, target = chart.repo_url(explicit), None, "no cluster"
    version = getattr(args, "chart_version", None)
    if resolve_version:
        if version is None and lab is not None and repo == lab.chart_repo:
            version = lab.chart_version
        elif version is None:
            version = chart.default_version(repo, kube)
        chart.chart_package(version, repo)  # fetched (or found in the cache) now, so a stale source is said first
        if note := chart.source_note(repo):
            print(f"note: {note}", file=sys.stderr, flush=True)
    return ChartChoice(repo, version, kube, target, lab)


def _charts(args) -> int:
    choice = chart_choice(args, resolve_version=False)
    idx = chart.index(choice.repo, refresh=True)
    default = idx.default(choice.kube_version).version if idx.entries else None
    kept = choice.lab.chart_version if choice.lab is not None and choice.lab.chart_repo == choice.repo else None
    print(f"{chart.CHART} chart versions served by {choice.repo}; target: {choice.target}")
    if idx.note:
        print(f"note: {idx.note}", file=sys.stderr)
    rows = [("", "VERSION", "APP VERSION", "KUBEVERSION", "FITS")]
    for e in idx.entries:
        fits = {None: "no cluster", True: "yes", False: "no"}[e.fits(choice.kube_version)]
        mark = "*" if e.version == default else ">" if e.version == kept else ""
        rows.append((mark, e.version, e.app_version or "-", e.kube_version or "any", fits))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    what = "fits the target cluster" if choice.kube_version else "is served (no cluster to fit)"
    print(f"* the default --chart-version: the newest release that {what}")
    if kept and kept != default:
        print(f"> the version this lab keeps for its steps ({kept}); --chart-version chooses another")
    return 0


def lint_values(args) -> int:
    """`lint-values FILE`: every problem of a values file against the chart's keys; exit 1 when there are errors."""
    path = Path(args.file)
    try:
        text = path.read_text()
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror}; give the path of a values.yaml.") from None
    choice = chart_choice(args)
    problems = lint(text, chart.chart_keys(choice.version, choice.repo))
    for problem in problems:
        print(problem.render(str(path)))
    errors = sum(p.severity == "error" for p in problems)
    print(
        f"{path}: {errors} error(s), {len(problems) - errors} warning(s) against {chart.CHART} chart "
        f"{choice.version} from {choice.repo}"
    )
    return 1 if errors else 0


def register(subparsers, common) -> None:
    sub = subparsers.add_parser(
        "charts",
        parents=[common],
        help="list the clearml chart versions the repository serves and whether each fits the cluster",
        description="One line per version the chart repository serves: version, app version, kubeVersion range and "
        'whether helm would install it on the target cluster ("no cluster" when none is chosen or '
        "running). The default --chart-version is marked *.",
    )
    sub.set_defaults(handler=_charts)
