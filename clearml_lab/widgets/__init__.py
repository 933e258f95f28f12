"""ipywidgets views of the lab: a step card, the live topology, an SCC plan table.

They hold no cluster logic: they call the library (steps, topology, the SCC planner) and render its results.
Each also has a ``text`` property — the same information as deterministic plain text, for nbval to compare.
"""
from .plan_table import PlanTable
from .step_card import StepCard
from .topology_view import TopologyView

__all__ = ["PlanTable", "StepCard", "TopologyView"]
