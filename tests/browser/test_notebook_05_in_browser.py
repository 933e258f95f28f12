"""Notebook 05 as a learner does it: with 00–04 run, press the install step's Run button in the step card and watch
the topology view fill in with the ClearML workloads and turn them ready. The last screenshot is the README's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CORE = {"deployment/clearml-apiserver", "deployment/clearml-fileserver", "deployment/clearml-webserver"}


def test_installing_from_the_step_card_turns_the_clearml_nodes_ready(practice_lab, open_lab):
    catching_up = sorted(path.name for path in practice_lab.root.glob("0[0-4]_*.ipynb"))
    assert len(catching_up) == 5, f"notebooks/ should hold 00–04, found {catching_up}"
    lab = open_lab(practice_lab)
    for notebook in catching_up:
        lab.run_notebook(notebook, timeout=300)

    lab.open_notebook("05_install.ipynb")
    lab.run_all_cells(above="run_for_me(")  # stop short of the cell that would press the button for the learner
    assert lab.topology_nodes() == {}, "ClearML was installed before the button was pressed"

    lab.click_button("Run")
    seen = lab.wait_for_topology_ready(timeout=300)
    ready = seen[-1]
    assert CORE <= set(ready) and all(ready.values()), ready
    # Each workload showed up in the page before it was ready: the learner watched it turn ready.
    for workload in ready:
        assert any(picture.get(workload) is False for picture in seen), (workload, seen)
    lab.screenshot("installed")
    lab.screenshot("step-card", of=lab.cell("nb.card("))
    lab.screenshot("topology", of=lab.in_outputs("svg").first)
