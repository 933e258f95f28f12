"""The import contracts in pyproject.toml (checked by `lint-imports` in `make test`) name every module of the
package: a new module must be placed on one side or among the shared ones, or this fails."""
import tomllib
from pathlib import Path

import clearml_lab

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(clearml_lab.__file__).parent


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _top_level_modules() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()
                                                     if (p / "__init__.py").is_file()}
    return {f"clearml_lab.{name}" for name in names} - {"clearml_lab.__init__", "clearml_lab.__main__"}


def test_every_module_is_on_one_side_or_shared():
    contracts = _contracts()
    lab = set(contracts["lab-never-imports-the-practice-cluster"]["source_modules"])
    shared = set(contracts["shared-modules-import-neither-side"]["source_modules"])
    simulator = {"clearml_lab.practice"}
    assert not lab & shared
    assert lab | shared | simulator == _top_level_modules(), \
        f"place these in pyproject.toml's import contracts: {sorted(_top_level_modules() - lab - shared - simulator)}"


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
        p.name for p in (PACKAGE / "practice").iterdir() if (p / "__init__.py").is_file()}
    assert modules - {"__init__"} == placed
