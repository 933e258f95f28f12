"""`clearml-lab workshop provision|progress|reset|teardown`: the instructor's commands (see workshop.py)."""

from __future__ import annotations

from pathlib import Path


def _lab(args):
    from .options import lab_from  # loads the kubernetes client (about 0.5 s): only when this command runs

    return lab_from(args)


def _provision(args) -> int:
    from . import workshop  # loads the kubernetes client (about 0.5 s): only when this command runs

    names = workshop.learner_names(args.learners, args.names)  # bad input is refused before connecting
    lab = _lab(args)
    print(f"acting on {lab.target.describe()}", flush=True)
    print(
        workshop.provision(
            lab,
            names,
            Path(args.out) if args.out else None,
            profile=getattr(args, "profile", None),
            allow_privileged=args.allow_privileged,
            force=args.force,
        ).render_text()
    )
    return 0


def _progress(args) -> int:
    from . import workshop  # loads the kubernetes client (about 0.5 s): only when this command runs

    result = workshop.progress(_lab(args), args.learner or None, grace=args.grace)
    # stdout: the header, one row per learner (name, current step, then pass / FAIL / - per step), how many passed
    # each step, when the cluster was read, and one line per cause for each stuck learner with its fix.
    print(result.render_text())
    return 0


def _reset(args) -> int:
    from . import workshop  # loads the kubernetes client (about 0.5 s): only when this command runs

    print(workshop.reset(_lab(args), args.learner, args.to).render_text())
    return 0


def _teardown(args) -> int:
    from . import workshop  # loads the kubernetes client (about 0.5 s): only when this command runs

    result = workshop.teardown(_lab(args), Path(args.out) if args.out else None)
    print(result.render_text())
    return 0 if result.ok else 1


def register(subparsers, common) -> None:
    workshop = subparsers.add_parser(
        "workshop", parents=[common], help="instructor: provision, watch, reset and tear down learners' projects"
    )
    sub = workshop.add_subparsers(dest="workshop_command", metavar="ACTION")
    sub.required = True
    p = sub.add_parser(
        "provision",
        parents=[common],
        help="a project, grants, quota (and on the practice cluster "
        "a kubeconfig) per learner; safe to repeat. Grants are planned for --profile, by default "
        "hardened (least privilege)",
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--learners", type=int, metavar="N", help="learners learner1 … learnerN")
    who.add_argument(
        "--names",
        metavar="a,b,...",
        help="the learners' user names (e-mail-style names such as "
        "ana.lopez@uni.edu are fine: the project name is derived from them)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where <learner>.kubeconfig (practice cluster) and a one-page "
        "<learner>.handout.md per learner go (default $CLEARML_LAB_HOME/workshop)",
    )
    p.add_argument(
        "--allow-privileged",
        action="store_true",
        help="accept a plan that grants an SCC opening the "
        "node (privileged, host network/ports/PID/IPC, hostPath): refused without it",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="provision even when the free storage the cluster publishes cannot hold an install per learner",
    )
    p.set_defaults(handler=_provision)
    p = sub.add_parser(
        "progress",
        parents=[common],
        help="one row per learner: where they are and pass / FAIL / "
        "- (not reached) per step, from the cluster; who is stuck and the fix",
    )
    p.add_argument("learner", nargs="*", metavar="LEARNER", help="only these learners (default: all)")
    p.add_argument(
        "--grace",
        type=float,
        metavar="SECONDS",
        default=None,
        help="how long a learner's cause may last before they count as stuck (default 180)",
    )
    p.set_defaults(handler=_progress)
    p = sub.add_parser("reset", parents=[common], help="undo a learner's steps from STEP on")
    p.add_argument("learner", metavar="LEARNER")
    p.add_argument("--to", metavar="STEP", default="prerequisites", help="the step to go back to the start of")
    p.set_defaults(handler=_reset)
    p = sub.add_parser("teardown", parents=[common], help="remove every learner's project and credentials")
    p.add_argument("--out", metavar="DIR", help="where provision wrote the kubeconfig files (removed too)")
    p.set_defaults(handler=_teardown)
