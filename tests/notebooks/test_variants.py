"""The notebooks on the other chart era and profile (issue 6): nbval compares the reference outputs of the default
run (chart 7.14.4, profile seed); these runs execute 00→09 on their own fresh practice cluster and require that no
cell fails and every closing check prints PASS — ClearML fully Ready after 05, nothing left after 09."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .harness import practice_session

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("0[0-9]_*.ipynb"))


def _texts(cell) -> list[str]:
    return [o.get("text") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]


@pytest.mark.parametrize("chart_version,openshift_version,profile", [
    ("7.3.1", "4.15", "seed"),      # the seed recipe's era: its kubeVersion refuses OpenShift 4.19
    ("7.14.4", None, "hardened"),   # least privilege on today's chart
])
def test_notebooks_00_to_09_pass_their_checks(chart_version, openshift_version, profile, tmp_path):
    assert len(NOTEBOOKS) == 10
    with practice_session(openshift_version=openshift_version, chart_version=chart_version, profile=profile) as env:
        for path in NOTEBOOKS:
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    cell.outputs = []
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)
            checks = [cell for cell in notebook.cells if cell.cell_type == "code" and "nb.check(" in cell.source]
            assert checks, f"{path.name} has no closing check"
            for cell in checks:
                text = "\n".join(_texts(cell))
                assert "[PASS]" in text and "[FAIL]" not in text, f"{path.name}: {text[:2000]}"
            if path.name.startswith("00_"):
                assert f"chart {chart_version}, profile {profile}" in "\n".join(_texts(notebook.cells[3]))
