"""The notebooks on the other chart era and profile (issue 6): nbval compares the reference outputs of the default
run (chart 7.14.4, profile seed); these runs execute 00→09 on their own fresh practice cluster and require that no
cell fails and every closing check prints PASS — ClearML fully Ready after 05, nothing left after 09. The workshop
run (issue 7) does the same as a provisioned learner and requires each notebook to say what the instructor did."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from .harness import practice_session

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("0[0-9]_*.ipynb"))


def _texts(cell) -> list[str]:
    return [o.get("text") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]


def _outputs(notebook, source: str) -> str:
    """Everything the code cells whose source contains ``source`` printed."""
    return "\n".join(
        text for cell in notebook.cells if cell.cell_type == "code" and source in cell.source for text in _texts(cell)
    )


@pytest.mark.parametrize(
    "chart_version,openshift_version,profile,learner",
    [
        ("7.3.1", "4.15", "seed", None),  # the seed recipe's era: its kubeVersion refuses OpenShift 4.19
        ("7.14.4", None, "hardened", None),  # least privilege on today's chart
        ("7.14.4", None, "hardened", "ada"),  # a workshop learner, who may not grant SCCs
    ],
    ids=["7.3.1-seed", "7.14.4-hardened", "workshop-learner"],
)
def test_notebooks_00_to_09_pass_their_checks(chart_version, openshift_version, profile, learner, tmp_path):
    assert len(NOTEBOOKS) == 10
    with practice_session(
        openshift_version=openshift_version, chart_version=chart_version, profile=profile, learner=learner
    ) as env:
        if learner:  # the learner chooses nothing: chart and profile come from the workshop's project
            env.pop("CLEARML_LAB_CHART_VERSION")
            env.pop("CLEARML_LAB_PROFILE")
        for path in NOTEBOOKS:
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                if cell.cell_type == "code":
                    cell.outputs = []
            NotebookClient(
                notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
            ).execute(env=env)
            checks = [cell for cell in notebook.cells if cell.cell_type == "code" and "nb.check(" in cell.source]
            assert checks, f"{path.name} has no closing check"
            for cell in checks:
                text = "\n".join(_texts(cell))
                assert "[PASS]" in text and "[FAIL]" not in text, f"{path.name}: {text[:2000]}"
            if path.name.startswith("00_"):
                assert f"chart {chart_version}, profile {profile}" in _outputs(notebook, "nb.session()")
            if learner:  # every notebook says it is in workshop mode; 02, 04 and 09 say what they left alone
                assert f"Workshop mode: you are learner {learner}" in _outputs(notebook, "nb.session()"), path.name
                said = {
                    "02_": f"skipped: your instructor already created project {learner}-clearml",
                    "04_": "skipped: your instructor already granted anyuid to clearml-apiserver",
                    "09_": f"kept project {learner}-clearml and its SCC grants",
                }.get(path.name[:3])
                if said:
                    assert said in _outputs(notebook, "nb.run_for_me("), f"{path.name}: {said}"
