"""environment.yml (conda) must ask for what pyproject.toml asks for, at the same lower bounds."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI names
CONDA_NAMES = {"kubernetes": "python-kubernetes"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement)
    return match[1].lower(), match[2].replace(" ", "")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = dict(_split(d) for d in env if isinstance(d, str))
    pip = dict(_split(d) for item in env if isinstance(item, dict) for d in item["pip"] if not d.startswith("-"))
    for name, spec in wanted.items():
        got = conda.get(CONDA_NAMES.get(name, name), pip.get(name))
        assert got == spec, f"{name}: pyproject says {spec!r}, environment.yml says {got!r}"
    assert conda["python"] == project["requires-python"]
    assert "kubernetes-helm" in conda


def test_every_constraint_pin_is_a_dependency_or_a_known_transitive_one():
    pins = [line.split("==")[0].lower() for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line]
    assert len(pins) == len(set(pins))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = {_split(r)[0] for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    assert direct <= set(pins), f"unpinned: {sorted(direct - set(pins))}"
