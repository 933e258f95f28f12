"""ipywidgets render in JupyterLab in a real Chromium, and a click goes to the kernel and back into the page."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .jupyterlab_server import LAB_SETTINGS

pytestmark = pytest.mark.browser

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# A button whose click handler (in the kernel) adds a circle to an SVG in an HTML widget and says how many clicks
# it has seen: what the page shows after a click can only come from the kernel's answer.
CLICK_CELL = """\
import ipywidgets as widgets

clicks = []
picture = widgets.HTML('<svg width="240" height="40"></svg><p>no clicks yet</p>')

def add_circle(_button):
    clicks.append(len(clicks) + 1)
    circles = "".join(f'<circle cx="{40 * n - 20}" cy="20" r="15" fill="teal" data-click="{n}"/>' for n in clicks)
    picture.value = f'<svg width="240" height="40">{circles}</svg><p>kernel saw {len(clicks)} click(s)</p>'

once = widgets.Button(description="Add a circle")
once.on_click(add_circle)
twice = widgets.Button(description="Add a circle twice")
twice.on_click(lambda button: [add_circle(button) for _ in range(2)])
widgets.VBox([once, twice, picture])
"""


def write_notebook(path, *cells):
    notebook = new_notebook(cells=list(cells), metadata={"kernelspec": KERNELSPEC})
    nbformat.write(notebook, path)
    return path.name


def test_a_button_click_round_trips_through_the_kernel(jupyter_lab, lab):
    name = write_notebook(
        jupyter_lab.root / "click.ipynb", new_markdown_cell("# A button and a picture"), new_code_cell(CLICK_CELL)
    )
    lab.open_notebook(name)
    lab.run_all_cells()
    lab.wait_for_output(text="no clicks yet")
    assert lab.in_outputs("svg circle").count() == 0

    lab.click_button("Add a circle")
    circle = lab.wait_for_output(css='svg circle[data-click="1"]')
    assert circle.get_attribute("fill") == "teal"
    lab.wait_for_output(text="kernel saw 1 click(s)")

    # "Add a circle" names one button exactly, not also "Add a circle twice".
    lab.click_button("Add a circle twice")
    lab.wait_for_output(text="kernel saw 3 click(s)")
    assert lab.in_outputs("svg circle").count() == 3
    assert lab.screenshot("after-clicks").stat().st_size > 0


def test_notebooks_open_in_turn_and_failures_come_with_a_screenshot(jupyter_lab, lab):
    (jupyter_lab.root / "later").mkdir()
    first = write_notebook(jupyter_lab.root / "first.ipynb", new_code_cell("print('first notebook ran')"))
    write_notebook(
        jupyter_lab.root / "later" / "broken.ipynb",
        new_code_cell("print('before')"),
        new_code_cell("raise RuntimeError('this cell is broken')"),
        new_code_cell("print('never runs')"),
    )
    lab.run_notebook(first)
    lab.wait_for_output(text="first notebook ran")

    # The second notebook opens in the same tab (File › Open from Path…), and the helpers look at it alone.
    lab.open_notebook("later/broken.ipynb")
    lab.run_all_cells(above="raise RuntimeError")  # only the cells above the broken one
    lab.wait_for_output(text="before", cell=0)
    assert lab.cell(1).locator(".jp-InputPrompt").inner_text().strip() == "[ ]:"

    broken = "raised while running the cells: RuntimeError: this cell is broken"
    with pytest.raises(AssertionError, match=broken) as raised:
        lab.run_all_cells(timeout=30)
    assert "before" in str(raised.value)
    assert "first notebook ran" not in str(raised.value)

    with pytest.raises(AssertionError, match="'first notebook ran' did not appear") as raised:
        lab.wait_for_output(text="first notebook ran", timeout=1)
    shot = re.search(r"screenshot: (\S+\.png)", str(raised.value))
    assert shot, str(raised.value)
    assert Path(shot.group(1)).stat().st_size > 0


def test_the_private_lab_runs_with_the_harness_settings(jupyter_lab):
    # A settings file in the wrong place is silently ignored; then autosave would write over the notebooks a test
    # runs and off-screen cells would leave the DOM. Ask the server what JupyterLab will really use.
    for plugin, values in LAB_SETTINGS.items():
        composite = jupyter_lab.api(f"/lab/api/settings/{plugin}")["settings"]
        assert {key: composite.get(key) for key in values} == values, plugin
