"""ipywidgets views of the lab: a step card, the live topology, an SCC plan table.

They hold no cluster logic: they call the library (steps, topology, the SCC planner) and render its results.
Each also has a ``text`` property — the same information as deterministic plain text, for nbval to compare::

    card = StepCard(step, lab); display(card); card.run_it_for_me(); card.wait(); print(card.text)
    view = TopologyView(lab).start(); display(view); print(view.text)   # later: view.close()
    table = PlanTable(plan, on_apply=apply_grant); display(table); print(table.text)
"""
from .plan_table import PlanTable
from .step_card import StepCard
from .topology_view import TopologyView

__all__ = ["PlanTable", "StepCard", "TopologyView"]
