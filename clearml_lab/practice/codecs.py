"""Request bodies: JSON, YAML, and the Kubernetes protobuf envelope for the kinds clients send that way.

The protobuf messages are described in data/protobuf.yaml; this module turns that description into descriptors and
lets the protobuf library parse the wire format.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache

import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from .client import ApiError
from .registry import load_data
from .status import bad_request, error

PROTOBUF_MAGIC = b"k8s\x00"
JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/apply-patch+yaml")
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+cbor": None,
}
PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf"

_SCALARS = {
    "string": descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
    "bytes": descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
    "int64": descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    "int32": descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
    "bool": descriptor_pb2.FieldDescriptorProto.TYPE_BOOL,
}
_F = descriptor_pb2.FieldDescriptorProto


def _set_type(field, type_name: str, package: str) -> None:
    if type_name in _SCALARS:
        field.type = _SCALARS[type_name]
    else:
        field.type = _F.TYPE_MESSAGE
        field.type_name = f".{package}.{type_name}"


@cache
def _messages() -> dict:
    spec = load_data("protobuf.yaml")
    package = spec["package"]
    described = {**spec["messages"], **load_data("protobuf_api.yaml")["messages"]}
    file = descriptor_pb2.FileDescriptorProto(name="practice_k8s.proto", package=package, syntax="proto2")
    for msg_name, fields in described.items():
        msg = file.message_type.add(name=msg_name)
        for field_name, (number, *rest) in fields.items():
            f = msg.field.add(name=field_name, number=number, json_name=field_name)
            f.label = _F.LABEL_OPTIONAL
            if rest[0] == "repeated":
                f.label = _F.LABEL_REPEATED
                _set_type(f, rest[1], package)
            elif rest[0] == "map":
                entry_name = field_name[0].upper() + field_name[1:] + "Entry"
                entry = msg.nested_type.add(name=entry_name)
                entry.options.map_entry = True
                entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL, type=_F.TYPE_STRING)
                value = entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL)
                _set_type(value, rest[1], package)
                f.label = _F.LABEL_REPEATED
                f.type = _F.TYPE_MESSAGE
                f.type_name = f".{package}.{msg_name}.{entry_name}"
            else:
                _set_type(f, rest[0], package)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}")) for name in described
    }


def _to_dict(msg) -> dict:
    """A parsed message as the JSON shape the API uses (bytes base64, times RFC 3339, FieldsV1 inline)."""
    name = msg.DESCRIPTOR.name
    if name == "Time":
        return datetime.fromtimestamp(msg.seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "MicroTime":
        return datetime.fromtimestamp(msg.seconds + msg.nanos / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name == "FieldsV1":
        return json.loads(msg.Raw or b"{}")
    if name == "Quantity":
        return msg.string
    if name == "IntOrString":
        return msg.strVal if msg.type == 1 else msg.intVal
    if name == "Duration":
        return f"{msg.duration / 1e9:g}s"
    out = {}
    for field, value in msg.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {
                k: _to_dict(v) if value_field.message_type else _scalar(value_field, v) for k, v in value.items()
            }
        elif field.is_repeated:
            out[field.name] = [_to_dict(v) if field.message_type else _scalar(field, v) for v in value]
        elif field.message_type is not None:
            if field.message_type.name in ("Time", "MicroTime") and value.seconds <= 0:
                continue  # Go's zero time means "unset"
            out[field.name] = _to_dict(value)
        elif value in ("", 0, False) and field.name not in _pointer_fields() and field.type != _F.TYPE_BYTES:
            continue  # Go's omitempty (see protobuf.yaml)
        else:
            out[field.name] = _scalar(field, value)
    return out


@cache
def _pointer_fields() -> frozenset:
    return frozenset(load_data("protobuf.yaml")["pointer_fields"])


def _scalar(field, value):
    if field.type == _F.TYPE_BYTES:
        return base64.b64encode(value).decode()
    return value


# Top-level kinds a protobuf body may carry (the rest of the described messages are their parts).
_KINDS = {
    "Secret",
    "ConfigMap",
    "DeleteOptions",
    "SelfSubjectAccessReview",
    "SubjectAccessReview",
    "LocalSubjectAccessReview",
    "SelfSubjectReview",
    "Namespace",
    "ServiceAccount",
    "Service",
    "Pod",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "Job",
    "CronJob",
    "Deployment",
    "ResourceQuota",
    "Ingress",
    "PodDisruptionBudget",
    "PersistentVolumeClaim",
}


def decode_protobuf(body: bytes, expected: str | None) -> dict:
    """Parse ``k8s\\0`` + runtime.Unknown carrying one of the described kinds into a JSON-shaped dict."""
    if not body.startswith(PROTOBUF_MAGIC):
        raise bad_request("the protobuf body does not start with the Kubernetes magic number")
    messages = _messages()
    try:
        envelope = messages["Unknown"].FromString(body[len(PROTOBUF_MAGIC) :])
        kind = envelope.typeMeta.kind or expected
        if kind not in messages or kind in ("Unknown", "TypeMeta") or kind not in _KINDS:
            raise error(
                415,
                f"the practice cluster does not decode {kind or 'this kind'} from protobuf; send JSON",
                "UnsupportedMediaType",
            )
        obj = _to_dict(messages[kind].FromString(envelope.raw))
    except ApiError:
        raise
    except Exception as exc:  # the library's DecodeError and friends
        raise bad_request(f"unable to decode the protobuf body: {exc}") from None
    obj = {"apiVersion": envelope.typeMeta.apiVersion or "v1", "kind": kind, **obj}
    if kind == "DeleteOptions":
        obj.setdefault("apiVersion", "v1")
    return obj


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def decode(body: bytes, content_type: str | None, *, protobuf_kind: str | None = None) -> dict | list:
    """Decode a request body by its Content-Type; 415 for a type the server does not take, 400 for a bad body."""
    mt = media_type(content_type)
    if mt == PROTOBUF_TYPE:
        return decode_protobuf(body, protobuf_kind)
    if mt in JSON_TYPES or mt in PATCH_TYPES and PATCH_TYPES[mt] in ("json", "merge", "strategic") or mt == "":
        try:
            return json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from None
    if mt in YAML_TYPES:
        try:
            return yaml.safe_load(body.decode())
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise bad_request(f"the request body is not valid YAML: {str(exc).splitlines()[0]}") from None
    raise error(
        415,
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json, application/yaml, {PROTOBUF_TYPE}",
        "UnsupportedMediaType",
    )
