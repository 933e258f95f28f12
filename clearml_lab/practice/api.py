"""The request chain every request takes, from HTTP or from a controller's internal client:
authorize (RBAC) -> validate fields -> default -> admit -> persist -> publish (the store wakes watchers)."""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator

from . import admission, subresources
from . import patch as patching
from .apply import drop_nulls, record_update, server_side_apply
from .client import Identity
from .podspec import check_pod_update
from .rbac import RBAC_RESOURCES, Attributes, Authorizer
from .registry import Registry, Release, ResourceType
from .request import Request, now
from .schemas import Schemas
from .selectors import field_matcher, label_matcher
from .status import already_exists, bad_request, conflict, error, forbidden, invalid, method_not_allowed, not_found
from .virtual import VirtualResources  # the server-answered kinds (reviews, projects, whoami)

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
BOOKMARK_EVERY = 15.0  # seconds between watch bookmarks when a client asked for them


class Api:
    def __init__(self, store, registry: Registry, release: Release, settings: dict | None = None):
        self.store = store
        self.registry = registry
        self.release = release
        self.settings = settings or {}
        self.schemas = Schemas(release.kubernetes)
        self.authz = Authorizer(store)
        self.plugins = [plugin(self) for plugin in admission.PLUGINS]
        self.virtual = VirtualResources(self)

    # ---- authorization -------------------------------------------------------------------------------------------
    def authorize(self, req: Request, verb: str | None = None, name: str | None = None) -> None:
        verb = verb or req.verb
        name = req.name if name is None else name
        namespace = req.namespace
        if req.rt.plural in ("namespaces", "projects") and name:
            namespace = name  # a namespace (project) is authorized inside itself, as the apiserver's RequestInfo does
        attrs = Attributes(
            verb=verb,
            group=req.rt.group,
            resource=req.rt.plural,
            subresource=req.subresource,
            namespace=namespace,
            name=name,
        )
        if self.authz.allowed(req.identity, attrs):
            return
        rt = req.rt
        target = f"{rt.plural}/{req.subresource}" if req.subresource else rt.plural
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        raise forbidden(
            rt,
            name or None,
            f'User "{req.identity.username}" cannot {verb} resource "{target}" in API group "{rt.group}" {where}',
        )

    def allowed_nonresource(self, identity: Identity, path: str, verb: str = "get") -> bool:
        return self.authz.allowed(identity, Attributes(verb=verb, path=path))

    # ---- helpers -------------------------------------------------------------------------------------------------
    def _check_verb(self, req: Request, verb: str) -> None:
        if verb not in req.rt.verbs:
            raise method_not_allowed(f"the server does not allow this method on the requested resource ({req.rt.name})")

    def _key(self, req: Request) -> tuple[str, str]:
        return (req.namespace if req.rt.namespaced else ""), req.name

    def _load(self, req: Request, name: str | None = None) -> dict:
        ns = req.namespace if req.rt.namespaced else ""
        obj = self.store.get(req.rt.name, ns, name or req.name)
        if obj is None:
            raise not_found(req.rt, name or req.name)
        return obj

    def validate_fields(self, req: Request, obj) -> None:
        mode = req.params.get("fieldValidation") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise bad_request(f'fieldValidation must be one of "Ignore", "Warn" or "Strict", not "{mode}"')
        if not req.rt.schema:
            return
        unknown = self.schemas.unknown_fields(obj, req.rt.schema, prune=mode != "Strict")
        if not unknown or mode == "Ignore":
            return
        if mode == "Strict":
            raise bad_request("strict decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown))
        req.warnings += [f'unknown field "{f}"' for f in unknown]

    def _check_type(self, req: Request, obj) -> dict:
        if not isinstance(obj, dict):
            raise bad_request(f"the body of a {req.rt.kind} request must be a JSON or YAML object")
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != req.rt.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({req.rt.api_version})"
            )
        if kind and kind != req.rt.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({req.rt.kind})")
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = req.rt.api_version, req.rt.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        for key in [k for k, v in meta.items() if v is None or v == ""]:
            del meta[key]  # Go's omitempty: an empty field is an absent one
        ns = meta.get("namespace")
        if req.rt.namespaced:
            if ns and ns != req.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = req.namespace
        else:
            meta.pop("namespace", None)
        return obj

    def _require_namespace(self, req: Request, creating: bool) -> None:
        if not req.rt.namespaced:
            return
        ns = self.store.get("namespaces", "", req.namespace)
        if ns is None:
            raise error(
                404,
                f'namespaces "{req.namespace}" not found',
                "NotFound",
                {"name": req.namespace, "kind": "namespaces"},
            )
        if creating and ns["metadata"].get("deletionTimestamp"):
            raise forbidden(
                req.rt,
                req.name or None,
                f"unable to create new content in namespace {req.namespace} because it is being terminated",
            )

    def _admit(self, req: Request, obj: dict, old: dict | None) -> dict:
        for plugin in self.plugins:
            obj = plugin(req, obj, old)
        return obj

    def _schema(self, rt: ResourceType) -> dict:
        return self.schemas.get(rt.schema)

    def persist(self, req: Request, ops: list[tuple[str, str, dict]]) -> list[dict]:
        if req.dry_run:
            return [o for _, _, o in ops]
        out = self.store.commit(ops)
        if any(resource in RBAC_RESOURCES for _, resource, _ in ops):
            self.authz.invalidate()
        return out

    @staticmethod
    def validate_name(rt: ResourceType, name: str) -> None:
        if rt.plural in ("users",):
            return
        if len(name) > 253 or not NAME_RE.match(name) or (":" in name):
            if rt.group == "rbac.authorization.k8s.io" or rt.plural == "securitycontextconstraints":
                if name and "/" not in name and len(name) <= 253:
                    return  # RBAC and SCC names may hold colons (system:openshift:scc:anyuid)
            raise invalid(
                rt,
                name,
                [
                    (
                        "metadata.name",
                        f'Invalid value: "{name}": a lowercase RFC 1123 subdomain '
                        "must consist of lower case alphanumeric characters, '-' or '.', and must "
                        "start and end with an alphanumeric character",
                    )
                ],
            )

    # ---- create --------------------------------------------------------------------------------------------------
    def create(self, req: Request, body) -> dict:
        self._check_verb(req, "create")
        if req.subresource == "binding" or req.rt.plural == "bindings":
            return self.bind(req, body)
        if req.rt.virtual:
            self.authorize(req, "create", "")
            return self.virtual.create(req, self._check_type(req, body))
        self.authorize(req, "create", "")
        obj = drop_nulls(self._check_type(req, body))
        self.validate_fields(req, obj)
        meta = obj["metadata"]
        prefix = None if meta.get("name") else meta.get("generateName")
        if not meta.get("name") and not prefix:
            raise invalid(req.rt, "", [("metadata.name", "Required value: name or generateName is required")])
        # As in the real apiserver, a name is generated only after admission (BeforeCreate), so admission — and an
        # SCC refusal's `pods "<name>" is forbidden` — sees the generateName prefix.
        req.name = meta.get("name") or prefix
        self.validate_name(req.rt, req.name + ("x" if prefix else ""))
        self._require_namespace(req, creating=True)
        obj = self.prepare_new(req, obj)
        if prefix:
            obj["metadata"]["name"] = prefix + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
            req.name = obj["metadata"]["name"]
        if self.store.get(req.rt.name, *self._key(req)) is not None:
            raise already_exists(req.rt, req.name)
        return self.persist(req, [("put", req.rt.name, obj)])[0]

    def prepare_new(self, req: Request, obj: dict) -> dict:
        """Server-set metadata, defaults and admission for an object about to be created."""
        meta = obj["metadata"]
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "selfLink", "managedFields"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta.pop("generation", None)
        if req.rt.generation:
            meta["generation"] = 1
        if "status" in req.rt.subresources:
            obj.pop("status", None)  # status is written through its subresource, never by create
        admission.apply_declared_defaults(req.rt.kind, obj)
        admission.apply_computed_defaults(req.rt.kind, obj, self.store)
        obj = self._admit(req, obj, None)
        record_update(
            None,
            obj,
            manager=req.field_manager,
            schema=self._schema(req.rt),
            schemas=self.schemas,
            api_version=req.rt.api_version,
        )
        return obj

    # ---- read ----------------------------------------------------------------------------------------------------
    def get(self, req: Request) -> dict:
        self._check_verb(req, "get")
        self.authorize(req, "get")
        if req.rt.virtual:
            return self.virtual.get(req)
        if req.subresource == "scale":
            return subresources.scale_of(self._load(req))
        return self._load(req)

    def list(self, req: Request) -> dict:
        self._check_verb(req, "list")
        self.authorize(req, "list", "")
        if req.rt.virtual:
            items, rv = self.virtual.list(req), self.store.current_rv()
        else:
            items, rv = self.store.list(req.rt.name, req.namespace or None), self.store.current_rv()
        labels = label_matcher(req.params.get("labelSelector"))
        fields = field_matcher(req.params.get("fieldSelector"))
        items = [o for o in items if labels(o) and fields(o)]
        meta: dict = {"resourceVersion": str(rv)}
        cont = req.params.get("continue")
        if cont:
            try:
                token = json.loads(base64.urlsafe_b64decode(cont.encode()))
                after = tuple(token["after"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("the provided continue parameter is not valid") from None
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
        limit = int(req.params.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            token = {"after": [last.get("namespace", ""), last["name"]], "rv": rv}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {"kind": f"{req.rt.kind}List", "apiVersion": req.rt.api_version, "metadata": meta, "items": items}

    def watch(self, req: Request) -> AsyncIterator[dict]:
        """Watch events as the API sends them (``{"type", "object"}``), in resourceVersion order. Refusals are
        raised here, before the stream starts."""
        self._check_verb(req, "watch")
        self.authorize(req, "watch", "")
        if req.rt.virtual:
            if req.rt.plural != "projects":
                raise method_not_allowed()
            return self._project_events(req)
        rv_param = req.params.get("resourceVersion") or ""
        if rv_param and not rv_param.isdigit():
            raise bad_request(f'invalid resourceVersion "{rv_param}"')
        label_matcher(req.params.get("labelSelector"))
        field_matcher(req.params.get("fieldSelector"))
        return self._events(req)

    async def _project_events(self, req: Request) -> AsyncIterator[dict]:
        """A project watch is the namespace watch shown as the projects this user may see. A project's DELETED
        event reaches only a stream that saw it (its RoleBindings are gone by then, so visibility cannot be asked)."""
        inner = Request(
            req.identity, req.verb, self.registry.by_name("namespaces"), params=req.params, user_agent=req.user_agent
        )
        seen: set[str] = set()
        async for event in self._events(inner):
            if event["type"] in ("BOOKMARK", "ERROR"):
                yield event
                continue
            name, kind = event["object"]["metadata"]["name"], event["type"]
            # Replayed history is judged by today's RBAC; a project being deleted may have lost its bindings
            # already, so its requester still sees it (OpenShift's project cache saw it while it existed).
            requester = (event["object"]["metadata"].get("annotations") or {}).get("openshift.io/requester")
            visible = requester == req.identity.username or self.virtual.visible(req.identity, name)
            if kind != "DELETED" and visible:
                kind = "MODIFIED" if name in seen else "ADDED"  # first seen once its admin binding exists
                seen.add(name)
            elif kind == "DELETED" and (name in seen or visible):
                # A stream that started after the list (resourceVersion=N) knows the project from that list.
                seen.discard(name)
            else:
                continue
            yield {"type": kind, "object": self.virtual.project_of(event["object"])}

    async def _events(self, req: Request) -> AsyncIterator[dict]:
        rt, store = req.rt, self.store
        labels = label_matcher(req.params.get("labelSelector"))
        fields = field_matcher(req.params.get("fieldSelector"))

        def matches(obj):
            return (
                obj is not None
                and (not req.namespace or obj["metadata"].get("namespace") == req.namespace)
                and labels(obj)
                and fields(obj)
            )

        timeout = float(req.params.get("timeoutSeconds") or 0) or None
        deadline = time.monotonic() + timeout if timeout else None
        bookmarks = req.params.get("allowWatchBookmarks") == "true"
        rv_param = req.params.get("resourceVersion") or ""
        initial = req.params.get("sendInitialEvents") == "true"
        if initial or rv_param in ("", "0"):
            start = store.current_rv()
            for obj in store.list(rt.name, req.namespace or None):
                if matches(obj):
                    yield {"type": "ADDED", "object": obj}
            if initial and bookmarks:
                yield {"type": "BOOKMARK", "object": self._bookmark(rt, start, initial_end=True)}
        else:
            start = int(rv_param)
            if start < store.oldest_change() - 1:
                yield {
                    "type": "ERROR",
                    "object": {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "code": 410,
                        "reason": "Expired",
                        "message": f"too old resource version: {start} ({store.oldest_change() - 1})",
                    },
                }
                return
        last_bookmark = time.monotonic()
        while True:
            changes = store.changes_since(start, (rt.name,))
            if not changes:
                start = max(start, store.current_rv())
            for c in changes:
                start = c.rv
                new_ok, old_ok = matches(c.object), matches(c.old)
                if c.type == "DELETED":
                    if old_ok or new_ok:
                        yield {"type": "DELETED", "object": c.object}
                elif new_ok:
                    yield {"type": "ADDED" if c.type == "ADDED" or not old_ok else "MODIFIED", "object": c.object}
                elif old_ok:
                    yield {"type": "DELETED", "object": c.object}
            if len(changes) >= 500:
                continue
            wait = BOOKMARK_EVERY if bookmarks else None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                wait = min(wait, left) if wait else left
            changed = await store.wait_for_change(start, wait)
            if not changed and bookmarks and time.monotonic() - last_bookmark >= BOOKMARK_EVERY - 0.01:
                last_bookmark = time.monotonic()
                yield {"type": "BOOKMARK", "object": self._bookmark(rt, start)}

    @staticmethod
    def _bookmark(rt: ResourceType, rv: int, initial_end: bool = False) -> dict:
        meta: dict = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta}

    # ---- update / patch ------------------------------------------------------------------------------------------
    def update(self, req: Request, body) -> dict:
        self._check_verb(req, "update")
        if req.subresource and req.subresource not in req.rt.subresources:
            raise not_found(req.rt, req.name)
        self.authorize(req, "update")
        if req.subresource == "scale":
            replicas = subresources.check_scale(req.name, body)
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            return self._write_scale(req, self._load(req), replicas, sent_rv)
        obj = drop_nulls(self._check_type(req, body))
        if obj["metadata"].get("name") and obj["metadata"]["name"] != req.name:
            raise bad_request(
                f"the name of the object ({obj['metadata']['name']}) does not match the name on the URL ({req.name})"
            )
        obj["metadata"]["name"] = req.name
        self.validate_fields(req, obj)
        current = self._load(req)
        return self._write_update(req, current, obj)

    def _write_update(
        self, req: Request, current: dict, obj: dict, *, check_rv: bool = True, applied: bool = False
    ) -> dict:
        """The shared tail of update, patch and apply; ``applied`` when server-side apply already set
        managedFields."""
        rt = req.rt
        sent_rv = obj["metadata"].get("resourceVersion")
        if check_rv and sent_rv and sent_rv != current["metadata"].get("resourceVersion"):
            raise conflict(
                rt,
                req.name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        new = self._merge_for_subresource(req, current, obj)
        meta, old_meta = new["metadata"], current["metadata"]
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta.pop("generation", None)
        if rt.generation:
            meta["generation"] = old_meta.get("generation", 1)
        if not req.subresource:
            admission.keep_allocated(rt, req.name, current, new)
            admission.apply_declared_defaults(rt.kind, new)
            admission.apply_computed_defaults(rt.kind, new, self.store)
            if rt.name == "pods":
                check_pod_update(rt, req.name, current, new)
            new = self._admit(req, new, current)
        # The spec is compared once defaulted, as the apiserver's PrepareForUpdate sees it: a patch that drops a
        # defaulted field (helm 3 replacing a StatefulSet's volumeClaimTemplates) changes no generation.
        if rt.generation and req.subresource in ("", "scale") and _spec_of(new) != _spec_of(current):
            new["metadata"]["generation"] = old_meta.get("generation", 1) + 1
        if not applied:
            record_update(
                current,
                new,
                manager=req.field_manager,
                schema=self._schema(rt),
                schemas=self.schemas,
                api_version=rt.api_version,
                subresource=req.subresource,
            )
        if _strip(new) == _strip(current) and _untimed(new) == _untimed(current):
            # A no-op write keeps its resourceVersion and wakes nobody. Managers' timestamps alone do not make a
            # change (the apiserver's IgnoreManagedFieldsTimestampsTransformer, Kubernetes 1.27+): an apply whose
            # atomic list differs from the stored one only by defaults is one.
            return current
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and not _namespace_finalizers(rt, new):
            return self.persist(req, [("delete", rt.name, new)])[0]
        return self.persist(req, [("put", rt.name, new)])[0]

    def _merge_for_subresource(self, req: Request, current: dict, obj: dict) -> dict:
        rt = req.rt
        if req.subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = obj.get("status", {})
            return new
        if req.subresource == "finalize":
            new = copy.deepcopy(current)
            new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
            return new
        new = obj
        if "status" in rt.subresources:
            if "status" in current:
                new["status"] = copy.deepcopy(current["status"])
            else:
                new.pop("status", None)
        return new

    def patch(self, req: Request, body, patch_type: str) -> dict:
        self._check_verb(req, "patch")
        if req.subresource and req.subresource not in req.rt.subresources:
            raise not_found(req.rt, req.name)
        if req.rt.virtual:
            raise method_not_allowed()
        self.authorize(req, "patch")
        ns, name = self._key(req)
        current = self.store.get(req.rt.name, ns, name)
        if req.subresource == "scale":
            if current is None:
                raise not_found(req.rt, req.name)
            scale = subresources.patched_scale(
                subresources.scale_of(current),
                body,
                patch_type,
                self.schemas.get(subresources.SCALE_SCHEMA),
                self.schemas,
            )
            replicas = subresources.check_scale(req.name, scale)
            return self._write_scale(req, current, replicas, (scale.get("metadata") or {}).get("resourceVersion"))
        if patch_type == "apply":
            return self._apply(req, current, body)
        if current is None:
            raise not_found(req.rt, req.name)
        if patch_type == "json":
            new = patching.json_patch(current, body)
        elif patch_type == "merge":
            if not isinstance(body, dict):
                raise bad_request("a merge patch must be a JSON object")
            new = patching.merge_patch(current, body)
        elif patch_type == "strategic":
            # OpenShift's schemas carry no merge keys: a strategic patch of their kinds merges like a merge patch
            schema = None if req.rt.group.endswith("openshift.io") else self._schema(req.rt)
            new = patching.strategic_merge_patch(current, body, schema, self.schemas)
        else:
            raise error(415, f"the patch type {patch_type} is not supported", "UnsupportedMediaType")
        if not isinstance(new, dict) or not isinstance(new.get("metadata"), dict):
            raise error(422, "the patched object is not a valid object", "Invalid")
        # Decoded into the API's types, a null left by the patch is no field (helm 3 replaces a StatefulSet's
        # volumeClaimTemplates with items carrying `creationTimestamp: null`).
        new = drop_nulls(self._check_type(req, new))
        new["metadata"]["name"] = req.name
        self.validate_fields(req, new)
        return self._write_update(req, current, new)

    def _write_scale(self, req: Request, current: dict, replicas: int, resource_version: str | None) -> dict:
        """A Scale write is a write of the parent's spec.replicas, guarded by the Scale's resourceVersion."""
        new = subresources.with_replicas(current, replicas, resource_version)
        return subresources.scale_of(self._write_update(req, current, new))

    # ---- pods/binding --------------------------------------------------------------------------------------------
    def bind(self, req: Request, body) -> dict:
        """POST pods/NAME/binding, or a Binding to the legacy ``bindings`` collection: sets spec.nodeName once."""
        legacy = req.rt.plural == "bindings"
        pod_name, node, annotations = subresources.binding_target(body, None if legacy else req.name)
        self.authorize(req, "create", "" if legacy else pod_name)
        meta = body.get("metadata") or {}
        if meta.get("namespace") and meta["namespace"] != req.namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        pods = self.registry.by_name("pods")
        pod = self.store.get(pods.name, req.namespace, pod_name)
        if pod is None:
            raise not_found(pods, pod_name)
        if meta.get("resourceVersion") and meta["resourceVersion"] != pod["metadata"].get("resourceVersion"):
            raise conflict(
                pods,
                pod_name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        bound = subresources.bound_pod(pods, pod, node, annotations, meta.get("uid"), now())
        write = Request(req.identity, "create", pods, req.namespace, pod_name, "binding", req.params, req.user_agent)
        self.persist(write, [("put", pods.name, bound)])
        return subresources.binding_success()

    def _apply(self, req: Request, current: dict | None, body) -> dict:
        applied = self._check_type(req, body)
        if not req.params.get("fieldManager"):
            raise bad_request("PATCH is missing the fieldManager query parameter, which server-side apply requires")
        if applied["metadata"].get("name") and applied["metadata"]["name"] != req.name:
            raise bad_request(
                f"the name of the object ({applied['metadata']['name']}) does not match the name on "
                f"the URL ({req.name})"
            )
        applied["metadata"]["name"] = req.name
        self.validate_fields(req, applied)
        force = req.params.get("force") == "true"
        schema = self._schema(req.rt)
        if current is None:
            if req.subresource:
                raise not_found(req.rt, req.name)
            self.authorize(req, "create", "")
            self._require_namespace(req, creating=True)
            self.validate_name(req.rt, req.name)
            obj = server_side_apply(
                {"metadata": {}},
                applied,
                manager=req.field_manager,
                force=force,
                schema=schema,
                schemas=self.schemas,
                api_version=req.rt.api_version,
                rt_name=req.rt.plural,
            )
            managed = obj["metadata"]["managedFields"]
            obj = self.prepare_new(req, obj)
            obj["metadata"]["managedFields"] = managed
            return self.persist(req, [("put", req.rt.name, obj)])[0]
        base = copy.deepcopy(current)
        merged = server_side_apply(
            base,
            applied,
            manager=req.field_manager,
            force=force,
            schema=schema,
            schemas=self.schemas,
            api_version=req.rt.api_version,
            rt_name=req.rt.plural,
            subresource=req.subresource,
        )
        merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self._write_update(req, current, merged, applied=True)

    # ---- delete --------------------------------------------------------------------------------------------------
    def delete(self, req: Request, options: dict | None) -> dict:
        self._check_verb(req, "delete")
        self.authorize(req, "delete")
        if req.rt.virtual:
            return self.virtual.delete(req, options or {})
        current = self._load(req)
        options = options or {}
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != current["metadata"].get("uid"):
            raise conflict(
                req.rt,
                req.name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object "
                f"meta: {current['metadata'].get('uid')}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"].get("resourceVersion"):
            raise conflict(
                req.rt,
                req.name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        propagation = (
            options.get("propagationPolicy")
            or req.params.get("propagationPolicy")
            or ("Orphan" if options.get("orphanDependents") else "Background")
        )
        return self.delete_object(req, current, propagation)

    def delete_object(self, req: Request, current: dict, propagation: str = "Background") -> dict:
        rt = req.rt
        meta = current["metadata"]
        if rt.plural == "namespaces" or meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return current
            new = copy.deepcopy(current)
            new["metadata"]["deletionTimestamp"] = now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if rt.plural == "namespaces":
                new.setdefault("status", {})["phase"] = "Terminating"
            return self.persist(req, [("put", rt.name, new)])[0]
        ops: list[tuple[str, str, dict]] = []
        if propagation in ("Background", "Foreground"):
            ops += self._dependents_to_delete(meta.get("uid"))
        elif propagation == "Orphan":
            ops += self._orphan(meta.get("uid"))
        ops.append(("delete", rt.name, current))
        out = self.persist(req, ops)[-1]
        if rt.plural == "pods" and not req.dry_run:
            self.store.delete_logs(meta.get("namespace", ""), meta["name"])
        return out

    def _dependents_to_delete(self, uid: str | None, depth: int = 0) -> list[tuple[str, str, dict]]:
        if not uid or depth > 8:
            return []
        ops: list[tuple[str, str, dict]] = []
        for resource, obj in self.store.dependents(uid):
            ops += self._dependents_to_delete(obj["metadata"].get("uid"), depth + 1)
            if obj["metadata"].get("finalizers"):
                new = copy.deepcopy(obj)
                new["metadata"].setdefault("deletionTimestamp", now())
                ops.append(("put", resource, new))
            else:
                ops.append(("delete", resource, obj))
        return ops

    def _orphan(self, uid: str | None) -> list[tuple[str, str, dict]]:
        ops = []
        for resource, obj in self.store.dependents(uid):
            new = copy.deepcopy(obj)
            new["metadata"]["ownerReferences"] = [
                r for r in new["metadata"].get("ownerReferences") or [] if r.get("uid") != uid
            ]
            ops.append(("put", resource, new))
        return ops

    def delete_collection(self, req: Request, options: dict | None) -> dict:
        self._check_verb(req, "deletecollection")
        self.authorize(req, "deletecollection", "")
        listed = self.list(Request(req.identity, "list", req.rt, req.namespace, params=req.params))
        propagation = (options or {}).get("propagationPolicy") or "Background"
        deleted = []
        for obj in listed["items"]:
            one = Request(
                req.identity,
                "delete",
                req.rt,
                obj["metadata"].get("namespace", ""),
                obj["metadata"]["name"],
                params=req.params,
            )
            current = self.store.get(req.rt.name, *self._key(one))
            if current is not None:
                deleted.append(self.delete_object(one, current, propagation))
        return {**listed, "items": deleted}


def _spec_of(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _strip(obj: dict) -> dict:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in ("managedFields", "resourceVersion")}
    return {**obj, "metadata": meta}


def _untimed(obj: dict) -> list:
    return [{k: v for k, v in e.items() if k != "time"} for e in obj["metadata"].get("managedFields") or []]


def _namespace_finalizers(rt: ResourceType, obj: dict) -> bool:
    return rt.plural == "namespaces" and bool((obj.get("spec") or {}).get("finalizers"))
