"""What runs in a project, as the OpenShift console's Developer topology shows it: a model, its renderings, and the
cluster read into it.

``model`` builds a ``Topology`` from object lists (pure); ``render`` draws it as status lines, text and SVG, always
the same bytes for the same model; ``live`` reads the cluster through ``kube.Kube``: ``snapshot()`` lists each kind
once, ``LiveTopology`` keeps the model current from watch streams (no re-listing).
"""

from .live import OPTIONAL_KINDS, LiveTopology, list_kind, snapshot
from .model import (
    FAILED_REASONS,
    KIND_BADGES,
    KINDS,
    STATE_COLOURS,
    STATE_LABELS,
    STATES,
    WORKLOAD_KINDS,
    Claim,
    Group,
    Node,
    PodCounts,
    PodInfo,
    RouteLink,
    Topology,
    build,
    pod_state,
    workload_of_pod,
)
from .render import status_lines, to_svg, to_text

__all__ = [
    "FAILED_REASONS",
    "KIND_BADGES",
    "KINDS",
    "OPTIONAL_KINDS",
    "STATES",
    "STATE_COLOURS",
    "STATE_LABELS",
    "WORKLOAD_KINDS",
    "Claim",
    "Group",
    "LiveTopology",
    "Node",
    "PodCounts",
    "PodInfo",
    "RouteLink",
    "Topology",
    "build",
    "list_kind",
    "pod_state",
    "snapshot",
    "status_lines",
    "to_svg",
    "to_text",
    "workload_of_pod",
]
