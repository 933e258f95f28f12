"""The lab's one HTTP layer over the kubernetes client: known REST paths, JSON in and out, watches that another
thread can close, one-sentence errors.

Paths are spelled out from a small table rather than discovered, so each call is exactly one request (the topology
and the checks rely on that) and works the same against the practice cluster and a real OpenShift.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

from .errors import LabError

# resource -> (api prefix, namespaced)
RESOURCES: dict[str, tuple[str, bool]] = {
    "namespaces": ("/api/v1", False),
    "pods": ("/api/v1", True),
    "services": ("/api/v1", True),
    "endpoints": ("/api/v1", True),
    "events": ("/api/v1", True),
    "secrets": ("/api/v1", True),
    "configmaps": ("/api/v1", True),
    "serviceaccounts": ("/api/v1", True),
    "persistentvolumeclaims": ("/api/v1", True),
    "persistentvolumes": ("/api/v1", False),
    "resourcequotas": ("/api/v1", True),
    "limitranges": ("/api/v1", True),
    "deployments": ("/apis/apps/v1", True),
    "replicasets": ("/apis/apps/v1", True),
    "statefulsets": ("/apis/apps/v1", True),
    "roles": ("/apis/rbac.authorization.k8s.io/v1", True),
    "rolebindings": ("/apis/rbac.authorization.k8s.io/v1", True),
    "clusterroles": ("/apis/rbac.authorization.k8s.io/v1", False),
    "clusterrolebindings": ("/apis/rbac.authorization.k8s.io/v1", False),
    "storageclasses": ("/apis/storage.k8s.io/v1", False),
    "csistoragecapacities": ("/apis/storage.k8s.io/v1", True),
    "selfsubjectaccessreviews": ("/apis/authorization.k8s.io/v1", False),
    "projects": ("/apis/project.openshift.io/v1", False),
    "projectrequests": ("/apis/project.openshift.io/v1", False),
    "routes": ("/apis/route.openshift.io/v1", True),
    "securitycontextconstraints": ("/apis/security.openshift.io/v1", False),
    "podsecuritypolicysubjectreviews": ("/apis/security.openshift.io/v1", True),
    "podsecuritypolicyselfsubjectreviews": ("/apis/security.openshift.io/v1", True),
    "podsecuritypolicyreviews": ("/apis/security.openshift.io/v1", True),
    "users": ("/apis/user.openshift.io/v1", False),
    "ingresses.config": ("/apis/config.openshift.io/v1", False),
    "clusterversions": ("/apis/config.openshift.io/v1", False),
    "helmchartrepositories": ("/apis/helm.openshift.io/v1beta1", False),
}

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


def path(resource: str, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
    prefix, namespaced = RESOURCES[resource]
    plural = resource.split(".")[0]
    parts = [prefix]
    if namespaced and namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(plural)
    if name:
        parts.append(name)
    if subresource:
        parts.append(subresource)
    return "/".join(parts)


@dataclass
class ApiFailure(LabError):
    """The server refused a request; keeps the HTTP status and the Kubernetes reason for callers that branch."""

    code: int
    reason: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Unreachable(LabError):
    """No answer from the cluster (connection refused or reset, TLS, timeout); keeps which error it was, for callers
    that say what they were doing."""

    server: str
    cause: str  # the class name of the underlying error, e.g. MaxRetryError

    def __str__(self) -> str:
        return (
            f"cannot reach the cluster at {self.server} ({self.cause}): check that it is running "
            f"(`clearml-lab practice status`) or that your kubeconfig points at it."
        )


class Watch:
    """The events of one watch request, parsed, as an iterator; ``close()`` (or leaving a ``with`` block) ends it.

    ``close()`` may come from another thread: it shuts the socket, so a read blocked in the reading thread returns at
    once and the iteration simply ends there. The connection is closed, not returned to the pool with half a stream
    in it. Events are yielded as the server sends them, ERROR events too (a 410 Gone means: list again); a stream the
    server ends (its ``timeoutSeconds``) just stops.
    """

    def __init__(self, response):
        self._response = response
        self._events = _events(response)
        self._reading = threading.Lock()  # held while a thread is inside __next__
        self.closed = False

    def __iter__(self) -> Watch:
        return self

    def __next__(self) -> dict:
        with self._reading:
            if not self.closed:
                try:
                    return next(self._events)
                except StopIteration:
                    raise
                except Exception:
                    if not self.closed:
                        raise
                    # the read failed because close() shut the socket: that is the end, not an error
            self._end()
            raise StopIteration

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True
        try:  # a read blocked on this socket in another thread returns now
            self._response.connection.sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            pass  # no socket any more: the stream has ended already
        if self._reading.acquire(blocking=False):  # nobody is reading: end it here (else the reader does, next)
            try:
                self._end()
            finally:
                self._reading.release()

    def _end(self) -> None:
        self._events.close()
        _release(self._response)


def _events(response) -> Iterator[dict]:
    """The watch events in a streamed response, one JSON object a line."""
    try:
        buffer = b""
        for chunk in response.stream(4096, decode_content=True):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line)
    finally:
        _release(response)


def _release(response) -> None:
    # Close first: the connection must not go back to the pool with the rest of a stream still in it.
    response.close()
    response.release_conn()


class Kube:
    def __init__(self, api_client):
        self.api_client = api_client

    @property
    def server(self) -> str:
        return self.api_client.configuration.host

    def request(
        self,
        method: str,
        url: str,
        *,
        body=None,
        query: dict | None = None,
        content_type: str = "application/json",
        timeout: float | None = 30,
        stream: bool = False,
    ):
        """One HTTP request through the client's auth and TLS settings; JSON back (or the raw response to stream)."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        query_params = [(k, v) for k, v in (query or {}).items() if v is not None]
        try:
            method, full_url, headers, body, _ = self.api_client.param_serialize(
                method, url, query_params=query_params, header_params=headers, body=body, auth_settings=["BearerToken"]
            )
            response = self.api_client.call_api(method, full_url, headers, body, _request_timeout=timeout)
        except ApiException as err:
            raise self._failure(err, method, url) from None
        except (Urllib3Error, OSError) as err:
            raise Unreachable(self.server, err.__class__.__name__) from None
        raw = response.response  # urllib3 response, not yet read
        if not 200 <= response.status < 300:
            error = ApiException(status=response.status, reason=response.reason)
            error.body = raw.data.decode("utf-8", "replace")
            raise self._failure(error, method, url)
        if stream:
            return raw
        data = raw.data
        return json.loads(data) if data else None

    def _failure(self, err: ApiException, method: str, url: str) -> ApiFailure:
        try:
            status = json.loads(err.body or "{}")
        except ValueError:
            status = {}
        code = err.status or 0
        reason = status.get("reason") or err.reason or ""
        message = status.get("message") or f"{method} {url} failed with HTTP {code} {err.reason}"
        if code == 401:
            message = (
                f"the cluster at {self.server} rejected your credentials (401 Unauthorized): your token is "
                f"invalid or expired; log in again (`oc login`) or choose another kubeconfig with --kubeconfig "
                f"(notebook 00's target picker)."
            )
        return ApiFailure(code, reason, message)

    # -- verbs ---------------------------------------------------------------------------------------------------
    def get(self, resource: str, name: str, namespace: str | None = None, subresource: str | None = None):
        return self.request("GET", path(resource, namespace, name, subresource))

    def get_or_none(self, resource: str, name: str, namespace: str | None = None):
        try:
            return self.get(resource, name, namespace)
        except ApiFailure as err:
            if err.code == 404:
                return None
            raise

    def list(self, resource: str, namespace: str | None = None, **query) -> dict:
        return self.request("GET", path(resource, namespace), query=query)

    def create(self, resource: str, body: dict, namespace: str | None = None) -> dict:
        return self.request("POST", path(resource, namespace), body=body)

    def replace(self, resource: str, body: dict, namespace: str | None = None) -> dict:
        return self.request("PUT", path(resource, namespace, body["metadata"]["name"]), body=body)

    def patch(
        self, resource: str, name: str, body, namespace: str | None = None, *, patch_type: str = "merge", **query
    ) -> dict:
        return self.request(
            "PATCH", path(resource, namespace, name), body=body, query=query, content_type=PATCH_TYPES[patch_type]
        )

    def delete(
        self, resource: str, name: str, namespace: str | None = None, *, propagation: str = "Background"
    ) -> dict | None:
        try:
            return self.request(
                "DELETE",
                path(resource, namespace, name),
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation},
            )
        except ApiFailure as err:
            if err.code == 404:
                return None
            raise

    def watch(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        timeout_seconds: int = 60,
        **query,
    ) -> Watch:
        """A watch from ``resource_version`` (bookmarks asked for), open once this returns: iterate it for its
        events; it ends after ``timeout_seconds``, or at ``close()`` from any thread."""
        response = self.request(
            "GET",
            path(resource, namespace),
            stream=True,
            timeout=timeout_seconds + 5,
            query={
                "watch": "true",
                "resourceVersion": resource_version,
                "allowWatchBookmarks": "true",
                "timeoutSeconds": timeout_seconds,
                **query,
            },
        )
        return Watch(response)

    def can_i(
        self,
        verb: str,
        resource: str,
        *,
        group: str = "",
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> bool:
        attrs = {"verb": verb, "resource": resource, "group": group}
        attrs.update({k: v for k, v in (("namespace", namespace), ("name", name), ("subresource", subresource)) if v})
        review = self.create(
            "selfsubjectaccessreviews",
            {
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs},
            },
        )
        return bool(review.get("status", {}).get("allowed"))


def wait_for(
    kube: Kube, resource: str, predicate, *, namespace: str | None = None, name: str | None = None, timeout: float = 120
) -> bool:
    """Watch ``resource`` until ``predicate(items)`` holds for the current list of objects (one object when
    ``name`` is given); True if it did before the timeout. A list, then a watch from its resourceVersion: no sleeps."""
    deadline = time.monotonic() + timeout
    selector = {"fieldSelector": f"metadata.name={name}"} if name else {}
    while True:
        listing = kube.list(resource, namespace, **selector)
        items = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in listing.get("items", [])}
        if predicate(list(items.values())):
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        version = listing.get("metadata", {}).get("resourceVersion")
        with kube.watch(
            resource, namespace, resource_version=version, timeout_seconds=max(1, int(remaining)), **selector
        ) as events:
            for event in events:
                if event.get("type") == "ERROR":
                    break  # e.g. 410 Gone: list again
                obj = event.get("object", {})
                key = (obj.get("metadata", {}).get("namespace"), obj.get("metadata", {}).get("name"))
                if event["type"] == "DELETED":
                    items.pop(key, None)
                elif event["type"] in ("ADDED", "MODIFIED"):
                    items[key] = obj
                else:
                    continue
                if predicate(list(items.values())):
                    return True
                if time.monotonic() >= deadline:
                    return False
