"""Builds the learners' notebooks, notebooks/NAME.ipynb, from their sources, notebooks/src/NAME.md.

The notebooks are written clean — no outputs, no execution counts; with --execute the same notebooks are run in
order against a fresh practice cluster and stored with their outputs as nbval's reference copies in
tests/notebooks/recorded/.

The notebooks are the product, so a change of wording is a change of the source and a rebuild:
    .venv/bin/python scripts/build_notebooks.py --execute
The sources are jupytext's MyST markdown: the notebooks are mostly prose, which reads as documentation in a review
(code cells are ```{code-cell}``` blocks, cell tags a `:tags:` line under them, the notebook's metadata the YAML
header). ruff lints and format-checks their code in the built notebooks; --format formats the sources' code cells
with ruff, then builds. Two parts are written out in the sources and proved by
tests/notebooks/test_sources.py: each numbered notebook's last cell links to the next, and notebook 07 names the
topology view's colours as colour_sentence() does. tests/notebooks/test_recorded.py proves that notebooks/ is the
build of the sources and that both notebook sets hold the same cells. Learners never run notebooks/ itself:
``--workspace DIR`` (what `make lab` runs) copies the .ipynb into a git-ignored folder that JupyterLab opens, so a
run leaves notebooks/ as shipped.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "notebooks"
SOURCES = OUT / "src"  # one MyST markdown file per notebook, at the notebook's path: src/workshop/instructor.md
FORMAT = "md:myst"
HEADER = "kernelspec,language_info,-jupytext"  # the notebook metadata a source's YAML header holds: all of it
RECORDED = ROOT / "tests" / "notebooks" / "recorded"  # nbval's reference copies: the same cells, with outputs


def source_path(name: str) -> Path:
    return SOURCES / f"{name}.md"


def _names() -> list[str]:
    return sorted(
        p.relative_to(SOURCES).with_suffix("").as_posix()
        for p in SOURCES.rglob("*.md")
        if ".ipynb_checkpoints" not in p.parts
    )


NOTEBOOKS = _names()  # every notebook by name, in order: 00_welcome_and_prerequisites … workshop/instructor


def notebook(name: str):
    """The notebook ``name`` as its source defines it: clean, with cell ids that do not change between builds."""
    result = jupytext.read(source_path(name), fmt=FORMAT)
    result.metadata.pop("jupytext", None)  # jupytext's note of the text format it read, not the notebook's
    for index, cell in enumerate(result.cells):
        cell["id"] = f"cell-{index:02d}"
    return result


def source_text(nb) -> str:
    """``nb`` written as a source: how notebooks/src/ was made from the notebooks, and all a source may say (jupytext
    reads it and writes it back unchanged, which tests/notebooks/test_sources.py proves)."""
    nb = copy.deepcopy(nb)
    nb.metadata["jupytext"] = {"notebook_metadata_filter": HEADER}
    return jupytext.writes(nb, FORMAT)


def formatted(code: str) -> str:
    """One code cell as `ruff format` writes it (the venv's ruff, with the project's settings)."""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--stdin-filename", "cell.py", "-"], input=code, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"ruff cannot format this cell ({done.stderr.strip()}); fix its code in the source:\n{code}")
    return done.stdout.rstrip("\n")


def format_sources() -> list[str]:
    """Formats the code cells of every source in place; the names of the sources it changed."""
    changed = []
    for name in NOTEBOOKS:
        nb = notebook(name)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        new = [formatted(cell.source) for cell in code]
        if new == [cell.source for cell in code]:
            continue
        for cell, source in zip(code, new, strict=True):
            cell.source = source
        for cell in nb.cells:
            cell.pop("id", None)  # ids are the build's, never the source's
        source_path(name).write_text(source_text(nb))
        changed.append(name)
    return changed


def build() -> list[Path]:
    paths = []
    for name in NOTEBOOKS:
        path = OUT / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook(name), path)
        paths.append(path)
    return paths


def recorded_path(path: Path) -> Path:
    return RECORDED / path.relative_to(OUT)


def execute(paths: list[Path]) -> None:
    """Run every notebook in order against one fresh practice cluster and store it, with its outputs, as nbval's
    reference copy. Every code cell must come back with an execution count: nbval compares no cell without one."""
    from nbclient import NotebookClient

    sys.path.insert(0, str(ROOT))
    from tests.notebooks.harness import practice_session  # the same set-up the nbval suite uses

    with practice_session() as env:
        for path in paths:
            out = recorded_path(path)
            out.parent.mkdir(parents=True, exist_ok=True)
            nb = nbformat.read(path, as_version=4)
            # Run where nbval runs the reference copy, so relative paths mean the same in both runs.
            NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}
            ).execute(env=env)
            unrun = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
            if unrun:
                raise SystemExit(f"{path.name}: code cells {unrun} came back without an execution count")
            nb.metadata.pop("widgets", None)  # widget state: random model ids, nothing nbval compares
            nbformat.write(nb, out)
            print(f"recorded {out}", flush=True)


def workspace(target: Path, source: Path = OUT) -> list[str]:
    """The learner's copies: every notebook of ``source`` that ``target`` lacks is copied there (a copy the learner
    has is never replaced); ``target`` ignores itself in git. Returns one line per copy older than its source."""
    target.mkdir(parents=True, exist_ok=True)
    (target / ".gitignore").write_text(
        "# the learner's copies of notebooks/ (scripts/build_notebooks.py --workspace)\n*\n"
    )
    older = []
    for path in sorted(source.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        copy = target / path.relative_to(source)
        if not copy.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
        elif copy.read_bytes() != path.read_bytes() and copy.stat().st_mtime < path.stat().st_mtime:
            older.append(f"{copy} is your copy; notebooks/ has a newer {path.name} (delete your copy to get it)")
    return older


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--execute",
        action="store_true",
        help="also run them and store the reference copies in tests/notebooks/recorded/",
    )
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        type=Path,
        help="only copy the notebooks a learner lacks into DIR (what `make lab` opens)",
    )
    parser.add_argument(
        "--format",
        action="store_true",
        help="first format the code cells of notebooks/src/*.md with ruff (make test checks the built notebooks)",
    )
    args = parser.parse_args()
    if args.format:
        for name in format_sources():
            print(f"formatted {source_path(name).relative_to(ROOT)}")
    if args.workspace:
        for line in workspace(args.workspace):
            print(line)
        return 0
    paths = build()
    if args.execute:
        execute(paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
