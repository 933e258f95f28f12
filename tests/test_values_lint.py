from clearml_lab.values import lint

KNOWN = {
    "apiserver": {"podSecurityContext": {}, "service": {"type": "NodePort", "port": 8008},
                  "serviceAccountName": "clearml"},
    "elasticsearch": {"rbac": {"create": False, "serviceAccountName": ""}, "esConfig": {},
                      "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}}},
    "mongodb": {"image": {"repository": "bitnami/mongodb", "tag": "6.0"}},
}


def test_clean_values_have_no_problems():
    text = "apiserver:\n  podSecurityContext:\n    runAsUser: 0\n  service:\n    type: ClusterIP\n"
    assert lint(text, KNOWN) == []


def test_yaml_error_names_line_and_column():
    (problem,) = lint("apiserver:\n  service:\n    type: [ClusterIP\n", KNOWN)
    assert problem.severity == "error" and problem.line == 4 and "YAML error" in problem.message


def test_typo_gets_a_did_you_mean_among_siblings():
    (problem,) = lint("apiserver:\n  servce:\n    type: ClusterIP\n", KNOWN)
    assert (problem.line, problem.column) == (2, 3)
    assert "`apiserver.servce` is not a key" in problem.message and "`apiserver.service`" in problem.message


def test_key_at_the_wrong_level_is_found_in_nested_paths():
    (problem,) = lint("rbac:\n  create: true\n", KNOWN)
    assert "did you mean `elasticsearch.rbac`" in problem.message


def test_case_slip_in_a_deep_key():
    (problem,) = lint("elasticsearch:\n  rbac:\n    serviceaccountname: clearml-elastic\n", KNOWN)
    assert "`elasticsearch.rbac.serviceAccountName`" in problem.message


def test_anything_goes_below_an_open_mapping():
    assert lint("elasticsearch:\n  esConfig:\n    elasticsearch.yml: |\n      node.store.allow_mmap: false\n",
                KNOWN) == []


def test_null_section_is_an_error_and_null_leaf_a_warning():
    problems = lint("elasticsearch:\n  securityContext:\n  rbac:\n    create:\n", KNOWN)
    assert [(p.line, p.severity) for p in problems] == [(2, "error"), (4, "warning")]
    assert "deletes that whole section" in problems[0].message


def test_not_a_mapping():
    (problem,) = lint("- a\n- b\n", KNOWN)
    assert "must be a mapping" in problem.message


def test_render_is_file_line_column():
    (problem,) = lint("apiservr: {}\n", KNOWN)
    assert problem.render("v.yaml").startswith("v.yaml:1:1: error: `apiservr` is not a key")
