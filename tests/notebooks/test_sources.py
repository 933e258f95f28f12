"""Issue 15: the notebooks' sources are text — notebooks/src/NAME.md, jupytext's MyST markdown — from which
scripts/build_notebooks.py builds notebooks/NAME.ipynb (test_recorded.py proves the shipped notebooks are that build).

A source is lossless: jupytext reads it and writes it back unchanged, so nothing in it (a cell's tags, the notebook's
metadata) is dropped or read as something else on the way to the notebook. Two parts of the sources say what is
decided elsewhere and are written out, not generated; they are proved here: the link that ends each numbered notebook
names the next one in order, and notebook 07 names the colours the topology view draws."""

import difflib
import importlib.util
import re
from pathlib import Path

import pytest

from clearml_lab.widgets.topology_view import colour_sentence

ROOT = Path(__file__).resolve().parents[2]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _build_module()
NUMBERED = [name for name in BUILD.NOTEBOOKS if re.fullmatch(r"\d\d_.*", name)]


def _source(name: str) -> str:
    return str(BUILD.source_path(name).relative_to(ROOT))


def _title(name: str) -> str:
    """A notebook's first heading, without the course prefix: '01 · The chart repository'."""
    first = BUILD.notebook(name).cells[0].source.splitlines()[0].lstrip("# ").strip()
    return first.split(" — ", 1)[1] if first.startswith("ClearML on OpenShift — ") else first


def test_the_sources_are_the_lab_and_the_workshop():
    assert NUMBERED == sorted(NUMBERED) and NUMBERED[0] == "00_welcome_and_prerequisites" and len(NUMBERED) >= 10
    assert set(BUILD.NOTEBOOKS) - set(NUMBERED) == {"workshop/instructor"}


@pytest.mark.parametrize("name", BUILD.NOTEBOOKS)
def test_source_is_what_jupytext_writes_for_the_notebook_it_reads(name):
    text = BUILD.source_path(name).read_text()
    written = BUILD.source_text(BUILD.notebook(name))
    assert written == text, f"{_source(name)} does not come back from jupytext as written; it reads it as:\n" + "".join(
        difflib.unified_diff(text.splitlines(True), written.splitlines(True), _source(name), "as jupytext writes it")
    )


@pytest.mark.parametrize("name", NUMBERED)
def test_numbered_notebook_ends_with_a_link_to_the_next(name):
    index = NUMBERED.index(name)
    if index + 1 < len(NUMBERED):
        following = NUMBERED[index + 1]
        expected = f"**Next:** [{_title(following)}]({following}.ipynb)"
    else:
        expected = f"That was the last notebook. Back to the start: [{_title(NUMBERED[0])}]({NUMBERED[0]}.ipynb)"
    last = BUILD.notebook(name).cells[-1]
    assert (last.cell_type, last.source) == ("markdown", expected), (
        f"{_source(name)} must end with a markdown cell of its own: {expected}"
    )


def test_notebook_07_names_the_colours_the_topology_view_draws():
    intro = " ".join(BUILD.notebook("07_topology").cells[0].source.split())  # a line break in markdown is a space
    sentence = f"The ring shows the pods: {colour_sentence()} (refused by admission)."
    assert sentence in intro, f"{_source('07_topology')} must say, in its first cell: {sentence}"


def test_format_writes_a_cell_as_ruff_format_does_and_says_which_code_it_cannot_read():
    assert BUILD.formatted("x = {'a':1}\nprint( x )") == 'x = {"a": 1}\nprint(x)'
    with pytest.raises(SystemExit, match="fix its code in the source"):
        BUILD.formatted("def broken(:\n")
