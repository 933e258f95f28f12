"""`clearml-lab plan-scc`: the grant lines other checks rely on, and bad input."""

import re
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
    placed.write_text(
        seed.read_text().replace(
            "metadata: {name: clearml-mongodb}\nspec:", "metadata: {name: clearml-mongodb, namespace: ml}\nspec:"
        )
    )
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
@pytest.mark.parametrize(
    "version, profile, expected, expected_privileged",
    [
        (
            "7.14.4",
            "hardened",
            ["anyuid -z clearml-apiserver", "anyuid -z clearml-fileserver", "anyuid -z clearml-webserver"],
            [],
        ),
        # the seed values run Elasticsearch's privileged sysctl init container under its own account
        ("7.3.1", "seed", ["anyuid -z default"], ["privileged -z clearml-elastic"]),
    ],
)
def test_rendering_the_chart(version, profile, expected, expected_privileged, capsys):
    assert main(["plan-scc", "--chart-version", version, "--profile", profile]) == 0
    lines = grant_lines(capsys.readouterr().out)
    anyuid = [line.removeprefix("oc adm policy add-scc-to-user ") for line in lines if " anyuid " in line]
    assert anyuid == expected
    privileged = [line.removeprefix("oc adm policy add-scc-to-user ") for line in lines if " privileged " in line]
    assert privileged == expected_privileged


def test_one_account_with_root_pods_and_a_privileged_init_pod_gets_two_grant_lines(capsys):
    plain = str(FIXTURES / "chart-7.3.1-no-values.yaml")
    assert main(["plan-scc", "--manifests", plain, "--namespace", "clearml"]) == 0
    out = capsys.readouterr().out
    lines = grant_lines(out)
    assert "oc adm policy add-scc-to-user anyuid -z default" in lines
    assert "oc adm policy add-scc-to-user privileged -z default" in lines
    assert (
        "StatefulSet/clearml-elastic-master (service account default): fails (rejected); with the plan: "
        "admitted by privileged" in out
    )
    assert "  Together these grants make 5 of 6 workloads work; still failing: " in out


def test_output_yaml_is_a_pure_stream_of_one_role_binding_per_grant(capsys):
    import yaml

    manifests = str(FIXTURES / "chart-7.3.1-no-values.yaml")
    assert main(["plan-scc", "--manifests", manifests, "--namespace", "team"]) == 0
    expected = {GRANT_LINE.match(line).group(1, 2) for line in grant_lines(capsys.readouterr().out)}
    assert main(["plan-scc", "--manifests", manifests, "--namespace", "team", "--output", "yaml"]) == 0
    out = capsys.readouterr().out
    documents = list(yaml.safe_load_all(out))
    assert out.startswith("---\n") and all(documents)
    assert {d["kind"] for d in documents} == {"RoleBinding"}
    assert {d["metadata"]["namespace"] for d in documents} == {"team"}
    got = {(d["roleRef"]["name"].removeprefix("system:openshift:scc:"), d["subjects"][0]["name"]) for d in documents}
    assert got == expected and len(documents) == len(expected) == 4
    assert all(d["metadata"]["annotations"]["clearml-lab.io/reason"] for d in documents)


def test_output_yaml_without_grants_prints_nothing_and_unknown_outputs_are_refused(capsys, tmp_path):
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: registry.example/a:1}]}\n")
    assert main(["plan-scc", "--manifests", str(quiet), "--output", "yaml"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["plan-scc", "--manifests", str(quiet), "--output", "json"]) == 2
    assert "argument --output: invalid choice: 'json'" in capsys.readouterr().err
