"""`clearml-lab export --out DIR [--force]` and `clearml-lab export --check DIR`: the recipe as a bundle a platform
team applies (GitOps), and the check of the live project against it."""

from __future__ import annotations

import argparse

from .commands import lab_from
from .errors import UsageError
from .progress import TerminalProgress


def register(subparsers, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[common],
        help="write the recipe as a reviewed, declarative bundle (or check one)",
        description=(
            "Write DIR/platform (the Namespace and the SCC grants as RoleBindings: for cluster-admin), DIR/app "
            "(values.yaml with a reason per key and a kustomization.yaml rendering the chart with helm) and "
            "DIR/README.md (who applies what). Nothing is installed or granted. With --check, compare a bundle "
            "with the live project and name each difference (exit 1 if any)."
        ),
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--out", metavar="DIR", help="directory to write the bundle to (new or empty)")
    action.add_argument("--check", metavar="DIR", help="compare the bundle in DIR with the live project")
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the bundle in a non-empty DIR (README.md, platform/, app/; the rest is kept)",
    )
    parser.add_argument(
        "--admin",
        metavar="USER|group:NAME",
        help="also make this user or group admin of the project (a RoleBinding in platform/)",
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    if args.check and (args.force or args.admin):
        raise UsageError("--force and --admin only apply to --out: drop them when checking a bundle.")
    return _check(args) if args.check else _export(args)


def _export(args) -> int:
    from . import export  # loads the kubernetes client (about 0.5 s): only when this command runs

    lab = lab_from(args)
    print(f"exporting the recipe for {lab.describe()}", flush=True)
    with TerminalProgress("export"):
        result = export.export(lab, args.out, admin=args.admin, force=args.force)
    spec = result.spec
    print(f"wrote {len(result.files)} files to {result.path}:")
    for rel in result.files:
        print(f"  {rel}")
    print(
        f"chart {export.CHART} {spec.chart_version} from {spec.repository}, release {spec.release}, "
        f"profile {spec.profile}, Kubernetes {spec.kube_version}"
    )
    for grant in spec.grants:
        print(f"grant {grant.scc} to {grant.service_account}: {grant.reason}")
    for note in spec.notes:
        print(f"note: {note}")
    print(f"next: a cluster-admin runs `oc apply -k {result.path / 'platform'}`; then see {result.path / 'README.md'}")
    return 0


def _check(args) -> int:
    from . import export  # loads the kubernetes client (about 0.5 s): only when this command runs

    lab = lab_from(args)
    with TerminalProgress("export --check"):
        result = export.check(lab, args.check)
    print(f"checking {result.path} against project {result.namespace} on {lab.target.describe()}")
    for difference in result.differences:
        print(f"- {difference.render()}")
    if result.ok:
        print(
            f"no difference: the {len(result.compared)} objects of the bundle match the project, and so do the "
            f"SCC grants."
        )
        return 0
    print(f"{len(result.differences)} difference(s) between {result.path} and project {result.namespace}.")
    return 1
