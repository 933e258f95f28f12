from clearml_lab.values import lint

KNOWN = {
    "apiserver": {
        "podSecurityContext": {},
        "service": {"type": "NodePort", "port": 8008},
        "serviceAccountName": "clearml",
    },
    "elasticsearch": {
        "rbac": {"create": False, "serviceAccountName": ""},
        "esConfig": {},
        "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
    },
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
    assert (
        lint("elasticsearch:\n  esConfig:\n    elasticsearch.yml: |\n      node.store.allow_mmap: false\n", KNOWN) == []
    )


def test_user_data_maps_take_any_keys_even_with_a_default_entry():
    known = {
        "apiserver": {"resources": {"limits": {"cpu": "2", "memory": "1Gi"}}},
        "elasticsearch": {"esConfig": {"elasticsearch.yml": "xpack.security.enabled: false\n"}},
    }
    text = (
        "apiserver:\n  resources:\n    limits:\n      ephemeral-storage: 2Gi\n"
        "elasticsearch:\n  esConfig:\n    log4j2.properties: |\n      status = error\n"
    )
    assert lint(text, known) == []
    # resources take any key (issue #12), but a slip in Kubernetes' own field names is still pointed out.
    (problem,) = lint("apiserver:\n  resources:\n    limit:\n      cpu: 1\n", known)
    assert problem.severity == "warning" and "did you mean `apiserver.resources.limits`" in problem.message


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


# A values.yaml as a learner copies it from the ClearML docs or an existing install: the real chart's commonly set
# keys (facts/clearml-chart.md), none of them specific to the practice chart.
REAL_CHART_VALUES = """\
clearml:
  existingSecret: ""
  apiserverKey: MYKEY
  apiserverSecret: my-secret
  readinessprobeKey: RKEY
  readinessprobeSecret: r-secret
  secureAuthTokenSecret: token
  clientConfigurationApiUrl: https://api.apps.example.com
  clientConfigurationFilesUrl: https://files.apps.example.com
apiserver:
  replicaCount: 1
  serviceAccountName: clearml
  serviceAccountAnnotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/r"}
  service: {type: ClusterIP, port: 8008}
  ingress:
    enabled: true
    ingressClassName: openshift-default
    hostName: api.apps.example.com
    tlsSecretName: api-tls
    annotations: {route.openshift.io/termination: edge}
    path: /
  additionalConfigs:
    apiserver.conf: "auth { fixed_users { enabled: true } }"
  extraEnvs: [{name: CLEARML__logging__level, value: DEBUG}]
  resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 2000m, memory: 1Gi}}
  nodeSelector: {node-role.kubernetes.io/worker: ""}
  tolerations: [{key: dedicated, operator: Exists}]
  affinity: {}
  podSecurityContext: {runAsUser: 0}
fileserver:
  service: {type: ClusterIP}
  ingress: {enabled: true, hostName: files.apps.example.com}
  storage: {data: {class: gp3, size: 100Gi}}
  nodeSelector: {}
webserver:
  service: {type: ClusterIP, port: 8080}
  ingress: {enabled: true, hostName: app.apps.example.com, path: /}
  extraEnvs: []
mongodb:
  architecture: standalone
  auth: {enabled: false}
  image: {repository: bitnamilegacy/mongodb}
  persistence: {size: 50Gi, storageClass: gp3}
  podSecurityContext: {enabled: false}
redis:
  architecture: standalone
  image: {repository: bitnamilegacy/redis}
  master:
    persistence: {size: 5Gi, storageClass: gp3}
elasticsearch:
  replicas: 1
  esJavaOpts: -Xmx2g -Xms2g
  resources: {requests: {cpu: 100m, memory: 2Gi}, limits: {cpu: 2000m, memory: 4Gi}}
  volumeClaimTemplate: {storageClassName: gp3, resources: {requests: {storage: 50Gi}}}
  sysctlInitContainer: {enabled: false}
  esConfig:
    elasticsearch.yml: |
      node.store.allow_mmap: false
  rbac: {create: true}
"""


def test_the_real_charts_common_keys_lint_clean_on_7_14_4():
    from clearml_lab.chart import default_values

    assert lint(REAL_CHART_VALUES, default_values("7.14.4")) == []


def test_keys_the_chart_added_after_7_3_1_are_flagged_there():
    from clearml_lab.chart import default_values

    problems = lint(REAL_CHART_VALUES, default_values("7.3.1"))
    # Per-component service accounts arrived in 7.4.0, their annotations in 7.12: nothing else is new.
    flagged = {p.message.split("`")[1]: p.line for p in problems}
    assert flagged == {"apiserver.serviceAccountName": 12, "apiserver.serviceAccountAnnotations": 13}
    assert {p.severity for p in problems} == {"error"}


def test_a_null_where_the_chart_has_null_changes_nothing():
    known = {"apiserver": {"deploymentAnnotations": None, "service": {"type": "NodePort"}}}
    assert lint("apiserver:\n  deploymentAnnotations:\n", known) == []
    (problem,) = lint("apiserver:\n  service:\n    type:\n", known)
    assert problem.severity == "warning"


def test_an_indentation_slip_suggests_the_key_under_the_empty_one():
    # The seed's `service:` at column 0 right after `webserver:`: webserver.service, not mongodb.service.
    known = {**KNOWN, "webserver": {"service": {"type": "NodePort"}}, "mongodb": {"service": {"type": "ClusterIP"}}}
    problems = lint("webserver:\nservice:\n  type: ClusterIP\n", known)
    assert [(p.line, p.severity) for p in problems] == [(1, "error"), (2, "error")]
    assert "did you mean `webserver.service`? Indent it under `webserver:`" in problems[1].message
    # Not after a key with a value: the usual closest match.
    (problem,) = lint("webserver: {}\nservice:\n  type: ClusterIP\n", known)
    assert "Indent" not in problem.message


def test_keys_templates_read_and_maps_they_hand_on_whole():
    from clearml_lab.values import ChartKeys, template_paths

    read, whole = template_paths(
        '{{ .Values.worker.image.tag }} {{ index .Values "worker" "tuning" "max" }}\n'
        "{{- with .Values.worker.probe }}{{ toYaml . }}{{ end }}"
        '{{ include "x" (dict "v" $.Values.worker.extraEnv) }}'
    )
    assert read == {"worker.image.tag", "worker.tuning.max", "worker.probe", "worker.extraEnv"}
    assert whole == {"worker.probe", "worker.extraEnv"}
    keys = ChartKeys(
        {"worker": {"enabled": True}},
        frozenset({"worker", "worker.image", "worker.image.tag", "worker.probe"}),
        frozenset({"worker.probe"}),
    )
    assert lint("worker:\n  image: {tag: '1'}\n  probe: {httpGet: {path: /}}\n", keys) == []
    (typo,) = lint("worker:\n  image: {tga: '1'}\n", keys)
    assert typo.severity == "error" and "`worker.image.tag`" in typo.message


def test_the_values_schema_names_keys_and_opens_maps():
    from clearml_lab.values import ChartKeys, schema_allows

    schema = {
        "type": "object",
        "definitions": {"port": {"type": "integer"}},
        "properties": {
            "gpu": {
                "type": "object",
                "properties": {"count": {"$ref": "#/definitions/port"}},
                "additionalProperties": False,
            },
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    assert schema_allows(schema, "gpu.count") == "key"
    assert schema_allows(schema, "gpu.cuont") is None
    assert schema_allows(schema, "labels.team") == "open"
    keys = ChartKeys({}, schema=schema)
    assert lint("gpu: {count: 1}\nlabels: {team: ml}\n", keys) == []
    (problem,) = lint("gpu: {cuont: 1}\n", keys)
    assert "`gpu.cuont` is not a key" in problem.message


def test_did_you_mean_compares_key_names_not_whole_paths():
    known = {"mongodb": {"persistence": {"size": "8Gi", "storageClass": ""}}}
    (unrelated,) = lint("mongodb:\n  persistence:\n    foo: 1\n", known)
    assert "did you mean" not in unrelated.message  # a shared parent path is no reason to suggest a sibling
    (typo,) = lint("mongodb:\n  persistence:\n    sizee: 1\n", known)
    assert "did you mean `mongodb.persistence.size`?" in typo.message
