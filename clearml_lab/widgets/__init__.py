"""ipywidgets views of the lab: a step card, the live topology, an SCC plan table.

They hold no cluster logic: they call the library (steps, topology, the SCC planner) and render its results.
Each also has a ``text`` property — the same information as deterministic plain text. It travels as the widget's
own text/plain in the output bundle when the widget is displayed (nbval compares it; JupyterLab shows the live
widget), so nothing is printed beside a widget that could go stale::

    card = StepCard(step, lab); display(card)      # text/plain: the card as displayed
    card.run_it_for_me(); card.wait(); display(CardOutcome(card))   # text/plain: the results after the action
    view = TopologyView(lab).start(); display(view)   # later: view.close()
"""

from .plan_table import PlanTable
from .step_card import CardOutcome, StepCard
from .topology_view import TopologyView

__all__ = ["CardOutcome", "PlanTable", "StepCard", "TopologyView"]
