"""Malformed bodies, unknown fields, wrong content types, huge bodies and bad tokens get the right 4xx Status,
and the server keeps serving."""

import json

import pytest

CM = "/api/v1/namespaces/{ns}/configmaps"


def _status(body: bytes) -> dict:
    out = json.loads(body)
    assert out["kind"] == "Status" and out["apiVersion"] == "v1"
    return out


@pytest.fixture(autouse=True)
def still_serving(practice_cluster):
    yield
    code, _, body = practice_cluster.request("GET", "/version")
    assert code == 200 and json.loads(body)["gitVersion"].startswith("v1.32.")


def test_malformed_json_is_400(practice_cluster, namespace):
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=b'{"kind": "ConfigMap", ', content_type="application/json"
    )
    assert code == 400 and _status(body)["reason"] == "BadRequest"


def test_malformed_yaml_and_protobuf_are_400(practice_cluster, namespace):
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=b"a: [unclosed", content_type="application/yaml"
    )
    assert code == 400 and "YAML" in _status(body)["message"]
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=b"k8s\x00\xff\xff\xff", content_type="application/vnd.kubernetes.protobuf"
    )
    assert code == 400 and _status(body)["code"] == 400


def test_wrong_content_types_are_415(practice_cluster, namespace):
    code, _, body = practice_cluster.request("POST", CM.format(ns=namespace), body=b"hello", content_type="text/plain")
    assert code == 415 and _status(body)["reason"] == "UnsupportedMediaType"
    code, _, body = practice_cluster.request(
        "PATCH", CM.format(ns=namespace) + "/x", body=b"{}", content_type="application/json"
    )
    assert code == 415


def test_huge_bodies_are_413(practice_cluster, namespace):
    huge = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": {"a": "x" * (4 * 1024 * 1024)}}
    ).encode()
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=huge, content_type="application/json"
    )
    assert code == 413 and _status(body)["reason"] == "RequestEntityTooLarge"


def test_field_validation_strict_warn_ignore(practice_cluster, namespace):
    def post(name, mode):
        doc = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "colour": "red"},
            "data": {"a": "b"},
            "extra": 1,
        }
        return practice_cluster.request(
            "POST",
            CM.format(ns=namespace) + f"?fieldValidation={mode}",
            body=json.dumps(doc).encode(),
            content_type="application/json",
        )

    code, _, body = post("strict", "Strict")
    assert code == 400
    assert _status(body)["message"] == ('strict decoding error: unknown field "metadata.colour", unknown field "extra"')
    code, headers, body = post("warn", "Warn")
    assert code == 201 and 'unknown field \\"extra\\"' in headers.get("Warning", "")
    assert "extra" not in json.loads(body)
    code, headers, _ = post("ignore", "Ignore")
    assert code == 201 and "Warning" not in headers


def test_mismatched_kind_namespace_and_name_are_400(practice_cluster, namespace):
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=json.dumps(doc).encode(), content_type="application/json"
    )
    assert code == 400 and "kind" in _status(body)["message"]
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "elsewhere"}}
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns=namespace), body=json.dumps(doc).encode(), content_type="application/json"
    )
    assert code == 400 and "namespace" in _status(body)["message"]


def test_missing_namespace_name_and_bad_selector(practice_cluster, namespace):
    doc = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    code, _, body = practice_cluster.request(
        "POST", CM.format(ns="no-such-ns"), body=json.dumps(doc).encode(), content_type="application/json"
    )
    assert code == 404 and _status(body)["message"] == 'namespaces "no-such-ns" not found'
    code, _, body = practice_cluster.request(
        "POST",
        CM.format(ns=namespace),
        body=json.dumps({"apiVersion": "v1", "kind": "ConfigMap"}).encode(),
        content_type="application/json",
    )
    assert code == 422 and _status(body)["reason"] == "Invalid"
    code, _, body = practice_cluster.request("GET", CM.format(ns=namespace) + "?labelSelector=a%20in%20(")
    assert code == 400


def test_methods_a_resource_does_not_allow_are_405(practice_cluster):
    code, _, body = practice_cluster.request("GET", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert code == 405 and _status(body)["reason"] == "MethodNotAllowed"
