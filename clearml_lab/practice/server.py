"""The HTTPS front: routes Kubernetes URLs to the request chain and writes JSON (or a watch stream) back."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl

from aiohttp import web

from . import codecs, discovery, tables
from .api import Api, Request
from .auth import Authenticator
from .client import ApiError
from .metrics import RequestCounter
from .openapi import OpenAPI
from .registry import ResourceType
from .status import bad_request, error, method_not_allowed, status

log = logging.getLogger(__name__)
MAX_BODY = 3 * 1024 * 1024  # the apiserver's request size limit
NO_CONTAINERS = ("exec", "attach", "portforward", "proxy", "ephemeralcontainers")  # would need a running container


def _json(obj, code: int = 200, warnings: list[str] | None = None) -> web.Response:
    headers = {}
    if warnings:
        headers["Warning"] = ", ".join('299 - "' + w.replace('"', '\\"') + '"' for w in warnings)
    return web.Response(
        body=json.dumps(obj, separators=(",", ":")).encode(),
        status=code,
        content_type="application/json",
        headers=headers,
    )


def _error(err: ApiError) -> web.Response:
    return _json(err.status, err.code)


class Server:
    def __init__(self, api: Api, authenticator: Authenticator):
        self.api = api
        self.auth = authenticator
        self.openapi = OpenAPI(api.registry, api.schemas)
        self.requests = RequestCounter()
        self.app = web.Application(client_max_size=MAX_BODY, middlewares=[self._count, self._errors])
        self.app.router.add_route("*", "/{tail:.*}", self.dispatch)
        self.watches: set[asyncio.Task] = set()

    @web.middleware
    async def _count(self, request: web.Request, handler):
        """Counts each routed resource request once it is answered (a watch when its stream ends)."""
        response = await handler(request)
        req = request.get("api_request")
        if req is not None:
            apply = (
                request.method == "PATCH"
                and codecs.PATCH_TYPES.get(codecs.media_type(request.headers.get("Content-Type"))) == "apply"
            )
            self.requests.count(
                verb="apply" if apply else req.verb,
                group=req.rt.group,
                version=req.rt.version,
                resource=req.rt.plural,
                subresource=req.subresource,
                scope=request["api_scope"],
                code=response.status,
            )
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler):
        try:
            return await handler(request)
        except ApiError as err:
            return _error(err)
        except web.HTTPRequestEntityTooLarge:
            return _json(status(413, "Request entity too large: limit is 3145728", "RequestEntityTooLarge"), 413)
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception:  # one bad request must not take the server down
            log.exception("internal error on %s %s", request.method, request.path)
            return _json(
                status(
                    500,
                    "Internal error occurred: the practice cluster failed on this request; see its log",
                    "InternalError",
                ),
                500,
            )

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        identity = self.auth.identify(request.headers.get("Authorization"))
        if identity is None:
            return _json(status(401, "Unauthorized", "Unauthorized"), 401)
        path = request.path.rstrip("/") or "/"
        parts = [p for p in path.split("/") if p]
        if (
            not parts
            or parts[0] not in ("api", "apis")
            or (parts[0] == "api" and len(parts) < 2)
            or (parts[0] == "apis" and len(parts) < 3)
        ):
            return self._non_resource(request, identity, path, parts)
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        if not rest:
            return self._non_resource(request, identity, path, parts)
        return await self._resource(request, identity, group, version, rest)

    # ---- non-resource URLs ---------------------------------------------------------------------------------------
    def _non_resource(self, request, identity, path: str, parts: list[str]) -> web.Response:
        if request.method != "GET":
            raise method_not_allowed()
        if not self.api.allowed_nonresource(identity, path):
            raise error(403, f'forbidden: User "{identity.username}" cannot get path "{path}"', "Forbidden")
        reg = self.api.registry
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/metrics":
            return web.Response(
                body=self.requests.exposition().encode(),
                headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
            )
        if path == "/version":
            return _json(discovery.version(self.api.release))
        if path == "/api":
            return _json(discovery.api_versions(f"{request.host}"))
        if path == "/apis":
            return _json(discovery.api_groups(reg))
        if parts[0] == "api" and len(parts) == 2:
            doc = discovery.resource_list(reg, "", parts[1])
            if doc:
                return _json(doc)
        if parts[0] == "apis" and len(parts) == 2:
            doc = discovery.api_group(reg, parts[1])
            if doc:
                return _json(doc)
        if parts[0] == "apis" and len(parts) == 3:
            doc = discovery.resource_list(reg, parts[1], parts[2])
            if doc:
                return _json(doc)
        if path == "/openapi/v3":
            return _json(self.openapi.root())
        if parts[:2] == ["openapi", "v3"]:
            key = "/".join(parts[2:])
            if key in self.openapi.docs:
                return web.Response(
                    body=self.openapi.docs[key],
                    content_type="application/json",
                    headers={"Cache-Control": "public, immutable", "Etag": self.openapi.hashes[key]},
                )
        return _json(status(404, "the server could not find the requested resource", "NotFound"), 404)

    # ---- resources -----------------------------------------------------------------------------------------------
    def _route(self, group: str, version: str, rest: list[str]) -> tuple[ResourceType, str, str, str]:
        reg = self.api.registry
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces" and reg.lookup(group, version, rest[2]) is not None:
            namespace, rest = rest[1], rest[2:]
        rt = reg.lookup(group, version, rest[0])
        if rt is None or len(rest) > 3:
            raise error(404, "the server could not find the requested resource", "NotFound")
        if namespace and not rt.namespaced:
            raise error(404, "the server could not find the requested resource", "NotFound")
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if rt.plural == "pods" and sub in NO_CONTAINERS:
            raise bad_request(
                f"the practice cluster runs no containers, so pods/{sub} is not available (see the "
                "practice cluster's README: no containers, no network, no images)"
            )
        if sub and sub not in rt.subresources:
            raise error(404, "the server could not find the requested resource", "NotFound")
        return rt, namespace, name, sub

    async def _body(self, request: web.Request, rt: ResourceType | None, *, required: bool = True):
        if request.content_length and request.content_length > MAX_BODY:
            raise error(413, f"Request entity too large: limit is {MAX_BODY}", "RequestEntityTooLarge")
        raw = await request.read()
        if not raw:
            if required:
                raise bad_request("the request needs a body")
            return None
        return codecs.decode(raw, request.headers.get("Content-Type"), protobuf_kind=rt.protobuf if rt else None)

    async def _resource(self, request, identity, group, version, rest) -> web.StreamResponse:
        rt, namespace, name, sub = self._route(group, version, rest)
        params = dict(request.query)
        req = Request(identity, "", rt, namespace, name, sub, params, request.headers.get("User-Agent", ""))
        request["api_request"] = req
        request["api_scope"] = "resource" if name else "namespace" if namespace else "cluster"  # as the URL said
        api = self.api
        method = request.method
        as_table = tables.wants_table(request.headers.get("Accept")) and not sub
        include = params.get("includeObject") or "Metadata"
        if sub:
            self._check_subresource_method(rt, sub, method)
        if method == "GET":
            if sub == "log":
                return await self._log(request, req)
            if name:
                req.verb = "get"
                obj = api.get(req)
                if sub == "scale" and tables.wants_table(request.headers.get("Accept")):
                    return _json(tables.table("scale", [obj], include=include))  # kubectl get --subresource=scale
                return _json(tables.table(rt.name, [obj], include=include) if as_table else obj)
            if params.get("watch") in ("true", "1"):
                req.verb = "watch"
                return await self._watch(request, req, as_table, include)
            req.verb = "list"
            listed = api.list(req)
            if as_table:
                return _json(tables.table(rt.name, listed["items"], include=include, list_meta=listed["metadata"]))
            return _json(listed)
        if method == "POST":
            if name and sub != "binding":
                raise method_not_allowed()
            req.verb = "create"
            body = await self._body(request, rt)
            out = api.create(req, body)
            return _json(out, 201, req.warnings)
        if method == "PUT":
            if not name:
                raise method_not_allowed()
            req.verb = "update"
            out = api.update(req, await self._body(request, rt))
            return _json(out, 200, req.warnings)
        if method == "PATCH":
            if not name:
                raise method_not_allowed()
            mt = codecs.media_type(request.headers.get("Content-Type"))
            patch_type = codecs.PATCH_TYPES.get(mt)
            if patch_type is None:
                raise error(
                    415,
                    f'the server does not support the patch type "{mt}"; use application/json-patch+json,'
                    " application/merge-patch+json, application/strategic-merge-patch+json or "
                    "application/apply-patch+yaml",
                    "UnsupportedMediaType",
                )
            req.verb = "patch"
            body = await self._body(request, rt)
            existed = api.store.get(rt.name, namespace if rt.namespaced else "", name) is not None
            out = api.patch(req, body, patch_type)
            return _json(out, 200 if existed or patch_type != "apply" else 201, req.warnings)
        if method == "DELETE":
            options = await self._body(request, None, required=False) or {}
            if not isinstance(options, dict):
                raise bad_request("DeleteOptions must be an object")
            if name:
                req.verb = "delete"
                return _json(api.delete(req, options))
            req.verb = "deletecollection"
            return _json(api.delete_collection(req, options))
        raise method_not_allowed()

    def _check_subresource_method(self, rt: ResourceType, sub: str, method: str) -> None:
        """A subresource takes only its own verbs (pods/binding: POST; deployments/scale: GET, PUT, PATCH)."""
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb not in self.api.registry.subresource_kinds[sub].verbs:
            raise method_not_allowed(
                f"the server does not allow this method on the requested resource ({rt.plural}/{sub})"
            )

    async def _watch(
        self, request: web.Request, req: Request, as_table: bool = False, include: str = "Metadata"
    ) -> web.StreamResponse:
        events = self.api.watch(req)
        first = True
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            async for event in events:
                if as_table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                    # column definitions travel with the first event only, as the apiserver sends them
                    event = {
                        "type": event["type"],
                        "object": tables.table(req.rt.name, [event["object"]], include=include, with_columns=first),
                    }
                    first = False
                await response.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            await events.aclose()
        return response

    async def _log(self, request: web.Request, req: Request) -> web.StreamResponse:
        req.verb = "get"
        self.api.authorize(req, "get")
        pod = self.api.store.get("pods", req.namespace, req.name)
        if pod is None:
            raise error(404, f'pods "{req.name}" not found', "NotFound", {"name": req.name, "kind": "pods"})
        spec = pod.get("spec") or {}
        names = [c.get("name") for c in spec.get("containers") or []]
        every = names + [c.get("name") for c in spec.get("initContainers") or []]
        container = req.params.get("container")
        if not container:
            if len(names) != 1:
                raise bad_request(
                    f"a container name must be specified for pod {req.name}, choose one of: [{' '.join(names)}]"
                )
            container = names[0]
        elif container not in every:
            raise bad_request(f"container {container} is not valid for pod {req.name}")
        store = self.api.store
        lines = store.read_log(req.namespace, req.name, container)
        tail = req.params.get("tailLines")
        if tail and tail.lstrip("-").isdigit() and int(tail) >= 0:
            lines = lines[-int(tail) :] if int(tail) else []
        if req.params.get("follow") != "true":
            text = "".join(line + "\n" for _, line in lines)
            return web.Response(text=text, content_type="text/plain")
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        last = lines[-1][0] if lines else 0
        try:
            for _, line in lines:
                await response.write((line + "\n").encode())
            while store.get("pods", req.namespace, req.name) is not None:
                await store.wait(
                    lambda since=last: (
                        bool(store.read_log(req.namespace, req.name, container, since))
                        or store.get("pods", req.namespace, req.name) is None
                    ),
                    30,
                )
                for seq, line in store.read_log(req.namespace, req.name, container, last):
                    last = seq
                    await response.write((line + "\n").encode())
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response


def ssl_context(cert, key) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx
