"""`clearml-lab plan-scc`: the grant lines other checks rely on, and bad input."""
import re
import shutil
from pathlib import Path

import pytest

from clearml_lab.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "scc"
GRANT_LINE = re.compile(r"^oc adm policy add-scc-to-user (\S+) -z (\S+)( -n \S+)?$")


def grant_lines(output):
    return [line for line in output.splitlines() if GRANT_LINE.match(line)]


def test_manifests_path_prints_sorted_grants_and_nothing_else_in_that_form(capsys):
    assert main(["plan-scc", "--manifests", str(FIXTURES / "chart-7.14.4-hardened.yaml")]) == 0
    out = capsys.readouterr().out
    assert grant_lines(out) == [
        "oc adm policy add-scc-to-user anyuid -z clearml-apiserver",
        "oc adm policy add-scc-to-user anyuid -z clearml-fileserver",
        "oc adm policy add-scc-to-user anyuid -z clearml-webserver",
        "oc adm policy add-scc-to-user nonroot-v2 -z clearml-elastic-master",
    ]
    # the comparison with the seed recipe and the undo commands are worded differently
    assert "anyuid for default: wrong." in out
    assert "oc adm policy remove-scc-from-user anyuid -z clearml-apiserver" in out
    assert sum("add-scc-to-user" in line for line in out.splitlines()) == 4


def test_options_before_or_after_the_command(capsys):
    seed = str(FIXTURES / "chart-7.3.1-seed.yaml")
    assert main(["--namespace", "team", "plan-scc", "--manifests", seed]) == 0
    before = capsys.readouterr().out
    assert main(["plan-scc", "--manifests", seed, "--namespace", "team"]) == 0
    after = capsys.readouterr().out
    assert before == after and "namespace team" in before
    assert "oc adm policy add-scc-to-user anyuid -z default" in grant_lines(before)


def test_namespace_comes_from_the_option_then_the_manifests_then_the_lab_default(capsys, tmp_path):
    seed = FIXTURES / "chart-7.3.1-seed.yaml"
    assert main(["plan-scc", "--manifests", str(seed)]) == 0
    assert "SCC plan for namespace clearml " in capsys.readouterr().out
    placed = tmp_path / "placed.yaml"
    placed.write_text(seed.read_text().replace("metadata: {name: clearml-mongodb}\nspec:",
                                               "metadata: {name: clearml-mongodb, namespace: ml}\nspec:"))
    assert main(["plan-scc", "--manifests", str(placed)]) == 0
    assert "SCC plan for namespace ml " in capsys.readouterr().out


def test_malformed_manifests_exit_2_naming_document_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Service\n---\nkind: Pod\nspec: {containers: [\n")
    assert main(["plan-scc", "--manifests", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"Document 2 of {bad} is not valid YAML at line" in err


def test_values_with_manifests_is_a_usage_error(capsys, tmp_path):
    values = tmp_path / "v.yaml"
    values.write_text("{}\n")
    code = main(["plan-scc", "--manifests", str(FIXTURES / "chart-7.3.1-seed.yaml"), "--values", str(values)])
    assert code == 2 and "--values only applies" in capsys.readouterr().err


def test_missing_manifests_file(capsys):
    assert main(["plan-scc", "--manifests", "/nonexistent/m.yaml"]) == 2
    assert "Cannot read the manifests file" in capsys.readouterr().err


@pytest.mark.helm
@pytest.mark.skipif(shutil.which("helm") is None, reason="needs the helm binary")
@pytest.mark.parametrize("version, profile, expected", [
    ("7.14.4", "hardened", ["anyuid -z clearml-apiserver", "anyuid -z clearml-fileserver", "anyuid -z clearml-webserver"]),
    ("7.3.1", "seed", ["anyuid -z default"]),
])
def test_rendering_the_chart(version, profile, expected, capsys):
    pytest.importorskip("clearml_lab.chart")
    assert main(["plan-scc", "--chart-version", version, "--profile", profile]) == 0
    lines = grant_lines(capsys.readouterr().out)
    anyuid = [line.removeprefix("oc adm policy add-scc-to-user ") for line in lines if " anyuid " in line]
    assert anyuid == expected
    assert not any(" privileged " in line for line in lines) or profile == "seed"
