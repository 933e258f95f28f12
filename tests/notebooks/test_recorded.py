"""Issue 14, item 1: learners get clean notebooks; nbval compares recorded copies of the very same cells.

notebooks/ ships what scripts/build_notebooks.py writes from the sources in notebooks/src/ (issue 15), without
outputs or execution counts; the build's --execute records the same notebooks, run, into tests/notebooks/recorded/,
which is all nbval collects. nbval skips a cell whose reference has no execution count, so every recorded code cell
must have one — and an edited recorded output must make nbval fail, which the last test proves against a real run."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "notebooks").rglob("*.ipynb"))
SHIPPED = [p for p in SHIPPED if ".ipynb_checkpoints" not in p.parts]
RECORDED = ROOT / "tests" / "notebooks" / "recorded"


def _build_module():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "notebooks"))


def _shape(cell) -> tuple:
    return cell.get("id"), cell.cell_type, cell.source, tuple(cell.metadata.get("tags", ()))


def test_every_notebook_of_the_build_is_shipped_and_nothing_else():
    build = _build_module()
    assert sorted(f"{name}.ipynb" for name in build.NOTEBOOKS) == sorted(_id(p) for p in SHIPPED)
    assert any(re.fullmatch(r"\d\d_.*\.ipynb", p.name) for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=_id)
def test_shipped_notebook_is_the_clean_build_of_its_source(path):
    build = _build_module()
    text = path.read_text()
    name = _id(path)[: -len(".ipynb")]
    assert text == nbformat.writes(build.notebook(name)) + "\n", (
        f"{_id(path)} is not the build of {build.source_path(name).relative_to(ROOT)}: run "
        f"scripts/build_notebooks.py (--execute, to record it too)"
    )
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, _id(path)
    assert "widgets" not in nb.metadata


@pytest.mark.parametrize("path", SHIPPED, ids=_id)
def test_recorded_copy_has_the_same_cells_each_run_with_an_execution_count(path):
    recorded = RECORDED / _id(path)
    assert recorded.exists(), f"no recorded copy of {_id(path)}: run scripts/build_notebooks.py --execute"
    shipped, reference = (nbformat.read(p, as_version=4) for p in (path, recorded))
    assert [_shape(c) for c in reference.cells] == [_shape(c) for c in shipped.cells], (
        f"{_id(path)}: the recorded copy is of other cells; record again (scripts/build_notebooks.py --execute)"
    )
    unrun = [i for i, c in enumerate(reference.cells) if c.cell_type == "code" and c.execution_count is None]
    assert unrun == [], f"{_id(path)}: nbval would not compare cells {unrun}"


def test_learners_work_on_copies_that_a_new_workspace_run_never_replaces(tmp_path):
    build = _build_module()
    target = tmp_path / "workspace"
    assert build.workspace(target) == []
    copies = sorted(str(p.relative_to(target)) for p in target.rglob("*.ipynb"))
    assert copies == sorted(_id(p) for p in SHIPPED)
    assert (target / ".gitignore").read_text().splitlines()[-1] == "*"  # the folder ignores itself in git
    mine = target / "02_project.ipynb"
    mine.write_text(
        mine.read_text().replace(
            '"outputs": []', '"outputs": [{"output_type": "stream", "name": "stdout", "text": "ran"}]', 1
        )
    )
    ran = mine.read_text()
    import os

    os.utime(mine, (1, 1))  # older than notebooks/: a newer shipped version is pointed out, not copied over it
    assert build.workspace(target) == [
        f"{mine} is your copy; notebooks/ has a newer 02_project.ipynb (delete your copy to get it)"
    ]
    assert mine.read_text() == ran


@pytest.mark.cluster
def test_nbval_fails_when_one_recorded_output_is_edited(tmp_path):
    source = RECORDED / "00_welcome_and_prerequisites.ipynb"
    nb = json.loads(source.read_text())
    code = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    edited = next(i for i in code if "nb.session()" in "".join(nb["cells"][i]["source"]))
    stream = next(o for o in nb["cells"][edited]["outputs"] if o.get("output_type") == "stream")
    text = "".join(stream["text"])
    assert text.startswith("Acting on "), text
    stream["text"] = text.replace("Acting on ", "Acting on somewhere else than ", 1)
    copy = tmp_path / source.name
    copy.write_text(json.dumps(nb))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.notebooks.nbval_session",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-rf",
            str(copy),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 1, done.stdout[-3000:]
    assert re.search(rf"1 failed, {len(code) - 1} passed", summary), done.stdout[-3000:]
    assert f"::Cell {code.index(edited)}" in done.stdout and "mismatch 'stdout'" in done.stdout
