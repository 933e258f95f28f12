"""Kubernetes ``Status`` objects for every refusal, raised as ``ApiError`` (the Client contract's exception)."""

from __future__ import annotations

from .client import ApiError

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
}


def status(code: int, message: str, reason: str | None = None, details: dict | None = None) -> dict:
    out = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        out["details"] = details
    return out


def error(code: int, message: str, reason: str | None = None, details: dict | None = None) -> ApiError:
    return ApiError(status(code, message, reason, details))


def _details(rt, name: str | None) -> dict:
    d = {"kind": rt.plural}
    if rt.group:
        d["group"] = rt.group
    if name:
        d["name"] = name
    return d


def _qualified(rt) -> str:
    return rt.name


def not_found(rt, name: str) -> ApiError:
    return error(404, f'{_qualified(rt)} "{name}" not found', "NotFound", _details(rt, name))


def already_exists(rt, name: str) -> ApiError:
    return error(409, f'{_qualified(rt)} "{name}" already exists', "AlreadyExists", _details(rt, name))


def conflict(rt, name: str, why: str) -> ApiError:
    return error(
        409, f'Operation cannot be fulfilled on {_qualified(rt)} "{name}": {why}', "Conflict", _details(rt, name)
    )


def forbidden(rt, name: str | None, why: str) -> ApiError:
    target = f'{_qualified(rt)} "{name}"' if name else _qualified(rt)
    return error(403, f"{target} is forbidden: {why}", "Forbidden", _details(rt, name))


def invalid(rt, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """``causes``: (field, message) pairs, e.g. ("metadata.name", "Required value: name is required")."""
    kind = rt.kind
    text = "; ".join(f"{f}: {m}" for f, m in causes)
    group = f".{rt.group}" if rt.group else ""
    details = {
        **_details(rt, name),
        "kind": kind,
        "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
    }
    return error(422, f'{kind}{group} "{name}" is invalid: {text}', "Invalid", details)


def bad_request(message: str) -> ApiError:
    return error(400, message, "BadRequest")


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> ApiError:
    return error(405, message, "MethodNotAllowed")
