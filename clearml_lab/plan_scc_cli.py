"""`clearml-lab plan-scc`: which service accounts need which SCC for the ClearML chart (or any manifests)."""

from __future__ import annotations

import argparse

from . import chart
from .chart_cli import chart_choice  # the chart repository and version, as charts and lint-values choose them
from .errors import LabError, UsageError
from .scc.manifests import dump_yaml_stream, grant_role_bindings, load_manifests
from .scc.planner import DEFAULT_MCS, DEFAULT_UID_BLOCK, plan_grants, seed_recipe_grants
from .scc.sccs import kubernetes_version, releases
from .versions import satisfies

DEFAULT_NAMESPACE = "clearml"
DEFAULT_PROFILE = "seed"
OUTPUTS = ("text", "yaml")
# The OpenShift release the plan assumes unless the chart refuses its Kubernetes version (then the newest it accepts).
OPENSHIFT_VERSION = "4.19"


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "plan-scc",
        parents=[common],
        help="compute the oc adm policy add-scc-to-user grants the chart needs",
        description=(
            "Render the chart (or read --manifests), admit every pod as OpenShift would and print, per service "
            "account, the fewest and least-privileged SCCs under which OpenShift's order admits each of its pods by "
            "an SCC that lets it work (one `oc adm policy add-scc-to-user <scc> -z <sa>` line per grant), with the "
            "SCC each pod lands on. With --manifests no cluster is contacted, no grants are assumed and the "
            f"project's UID range is {DEFAULT_UID_BLOCK} (MCS {DEFAULT_MCS})."
        ),
    )
    parser.add_argument("--values", metavar="FILE", help="extra values file for rendering the chart")
    parser.add_argument("--manifests", metavar="FILE", help="rendered multi-document YAML to plan instead of the chart")
    parser.add_argument(
        "--output",
        choices=OUTPUTS,
        default="text",
        help="text: the plan, its reasons and the oc commands (default); yaml: only the planned grants "
        "as namespaced RoleBindings, a YAML stream to review and apply",
    )
    parser.set_defaults(handler=run)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as err:
        raise UsageError(f"Cannot read the manifests file {path} ({err.strerror}); pass a readable file.") from None


def _target_release(chart, chart_version, repo=None) -> str:
    """OPENSHIFT_VERSION, or the newest release whose Kubernetes the chart's kubeVersion accepts."""
    try:
        constraint = chart.chart_kube_version_range(chart_version, repo)
    except (LabError, KeyError):
        return OPENSHIFT_VERSION
    if satisfies(kubernetes_version(OPENSHIFT_VERSION), constraint):
        return OPENSHIFT_VERSION
    accepted = [v for v in releases()["releases"] if satisfies(kubernetes_version(v), constraint)]
    return accepted[-1] if accepted else OPENSHIFT_VERSION


def _render_chart(args) -> tuple[list[dict], str]:
    choice = chart_choice(args)
    chart_version = choice.version
    release = _target_release(chart, chart_version, choice.repo) if chart_version else OPENSHIFT_VERSION
    objects = chart.render(
        chart_version,
        repo=choice.repo,
        profile=getattr(args, "profile", None) or DEFAULT_PROFILE,
        values_file=getattr(args, "values", None),
        namespace=getattr(args, "namespace", None) or DEFAULT_NAMESPACE,
        kube_version=kubernetes_version(release),
    )
    return objects, release


def _namespace_of(objects) -> str | None:
    return next(
        (
            o["metadata"]["namespace"]
            for o in objects
            if isinstance(o.get("metadata"), dict) and o["metadata"].get("namespace")
        ),
        None,
    )


def run(args) -> int:
    if getattr(args, "manifests", None):
        if getattr(args, "values", None):
            raise UsageError("--values only applies when the chart is rendered; drop it or drop --manifests.")
        objects = load_manifests(_read(args.manifests), source=args.manifests)
        namespace = getattr(args, "namespace", None) or _namespace_of(objects) or DEFAULT_NAMESPACE
        release = OPENSHIFT_VERSION
    else:
        objects, release = _render_chart(args)
        namespace = getattr(args, "namespace", None) or DEFAULT_NAMESPACE
    plan = plan_grants(objects, namespace=namespace, openshift_version=release)
    if getattr(args, "output", "text") == "yaml":
        print(dump_yaml_stream(grant_role_bindings(plan.grants(), namespace)), end="")
        return 0
    print(plan.render())
    print()
    print("Compared with the seed recipe's grants:")
    seed = plan.review_set(seed_recipe_grants())
    for review in seed.reviews:
        print(f"  {review.grant.scc} for {review.grant.service_account}: {review.verdict}. {review.reason}")
    print(f"  {seed.summary}")
    if plan.grants():
        print()
        print("To take these grants back later:")
        for command in plan.remove_commands():
            print(f"  {command}")
    return 0
