"""The import contracts in pyproject.toml (checked by `lint-imports` in `make test`) name every module of the
package: a new module must be placed on one side or among the shared ones, or this fails."""

import ast
import tomllib
from pathlib import Path

import clearml_lab

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(clearml_lab.__file__).parent


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _top_level_modules() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    return {f"clearml_lab.{name}" for name in names} - {"clearml_lab.__init__", "clearml_lab.__main__"}


def test_every_module_is_on_one_side_or_shared():
    contracts = _contracts()
    lab = set(contracts["lab-never-imports-the-practice-cluster"]["source_modules"])
    shared = set(contracts["shared-modules-import-neither-side"]["source_modules"])
    simulator = {"clearml_lab.practice"}
    assert not lab & shared
    assert lab | shared | simulator == _top_level_modules(), (
        f"place these in pyproject.toml's import contracts: {sorted(_top_level_modules() - lab - shared - simulator)}"
    )


def test_the_contracts_agree_on_what_the_lab_is():
    contracts = _contracts()
    lab = contracts["lab-never-imports-the-practice-cluster"]["source_modules"]
    assert contracts["practice-cluster-imports-only-shared-modules"]["forbidden_modules"] == lab
    assert contracts["shared-modules-import-neither-side"]["forbidden_modules"] == ["clearml_lab.practice", *lab]


def test_every_lab_and_shared_module_has_a_layer():
    layers = _contracts()["lab-layers"]["layers"]
    placed = {f"clearml_lab.{name.strip()}" for layer in layers for name in layer.split("|")}
    assert placed == _top_level_modules() - {"clearml_lab.practice"} | {"clearml_lab.__main__"}


def test_every_practice_module_has_a_layer():
    layers = _contracts()["practice-cluster-layers"]["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    modules = {p.stem for p in (PACKAGE / "practice").glob("*.py")} | {
        p.name for p in (PACKAGE / "practice").iterdir() if (p / "__init__.py").is_file()
    }
    assert modules - {"__init__"} == placed


def _imports_inside_functions(source: str) -> list[tuple[int, int]]:
    """(first, last) line of each run of consecutive imports nested in a function or class, 1-based."""
    tree = ast.parse(source)
    lines = sorted(
        {
            (node.lineno, node.end_lineno)
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and node.col_offset > 0
        }
    )
    runs: list[tuple[int, int]] = []
    for first, last in lines:
        if runs and first == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
    return runs


def unexplained_imports_inside_functions(source: str) -> list[int]:
    """Lines of imports inside functions that no comment explains: a comment on the import itself or directly above
    it. The layer contracts make cycles impossible, so the one reason left is start-up cost, and it is said."""
    text = source.splitlines()
    unexplained = []
    for first, last in _imports_inside_functions(source):
        said = any("#" in text[i - 1] for i in range(first, last + 1)) or text[first - 2].strip().startswith("#")
        if not said:
            unexplained.append(first)
    return unexplained


def test_imports_inside_functions_say_why():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := unexplained_imports_inside_functions(path.read_text(encoding="utf-8")))
    }
    assert not found, f"move these imports to the top of their module, or say on them why they wait: {found}"


def test_the_import_rule_sees_an_unexplained_import_and_accepts_a_reason():
    bare = "def f():\n    import json\n\n    return json\n"
    explained = "def f():\n    # json is slow to import (an example)\n    import json\n\n    return json\n"
    on_the_line = "def f():\n    import json  # slow: an example\n    return json\n"
    assert unexplained_imports_inside_functions(bare) == [2]
    assert unexplained_imports_inside_functions(explained) == []
    assert unexplained_imports_inside_functions(on_the_line) == []
