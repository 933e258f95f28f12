"""What the global command-line options choose: the lab to act on, with the workshop's settings wherever the
options leave them open. Every subcommand that talks to a cluster starts here."""

from __future__ import annotations

import argparse

from .lab import connect
from .workshop_mode import follow


def lab_from(args: argparse.Namespace):
    """The lab the options choose; in a workshop, what the command line leaves open (project, chart version,
    profile) is the workshop's."""
    namespace = getattr(args, "namespace", None)
    chart_version, profile = getattr(args, "chart_version", None), getattr(args, "profile", None)
    lab = connect(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        namespace=namespace,
        release=getattr(args, "release", None),
        chart_version=chart_version,
        profile=profile,
        chart_repo=getattr(args, "chart_repo", None),
    )
    return follow(
        lab,
        namespace_chosen=namespace is not None,
        chart_version_chosen=chart_version is not None,
        profile_chosen=profile is not None,
    )
