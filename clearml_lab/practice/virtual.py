"""Kinds the server answers instead of storing: access reviews, SCC reviews, projects, project requests and
``users/~``."""

from __future__ import annotations

import copy
import uuid

from .. import scc
from .client import Identity
from .rbac import Attributes
from .request import Request, now
from .status import already_exists, bad_request, method_not_allowed, not_found

PROJECT_ANNOTATIONS = ("openshift.io/description", "openshift.io/display-name", "openshift.io/requester")


class VirtualResources:
    def __init__(self, api):
        self.api = api

    # ---- projects ------------------------------------------------------------------------------------------------
    @staticmethod
    def project_of(namespace: dict) -> dict:
        meta = {k: v for k, v in namespace["metadata"].items() if k != "managedFields"}
        return {
            "apiVersion": "project.openshift.io/v1",
            "kind": "Project",
            "metadata": meta,
            "spec": {"finalizers": (namespace.get("spec") or {}).get("finalizers", [])},
            "status": {"phase": (namespace.get("status") or {}).get("phase", "Active")},
        }

    def visible(self, who: Identity, namespace: str) -> bool:
        return self.api.authz.allowed(who, Attributes("get", "", "namespaces", namespace=namespace, name=namespace))

    def _namespace(self, name: str) -> dict | None:
        return self.api.store.get("namespaces", "", name)

    def get(self, req) -> dict:
        rt = req.rt
        if rt.plural == "projects":
            ns = self._namespace(req.name)
            if ns is None or not self.visible(req.identity, req.name):
                raise not_found(rt, req.name)
            return self.project_of(ns)
        if rt.plural == "users":
            if req.name != "~":
                raise not_found(rt, req.name)
            who = req.identity
            return {
                "apiVersion": "user.openshift.io/v1",
                "kind": "User",
                "metadata": {"name": who.username},
                "identities": [],
                "groups": list(who.groups),
            }
        raise method_not_allowed()

    def list(self, req) -> list[dict] | dict:
        rt = req.rt
        if rt.plural == "projects":
            return [
                self.project_of(ns)
                for ns in self.api.store.list("namespaces")
                if self.visible(req.identity, ns["metadata"]["name"])
            ]
        if rt.plural == "projectrequests":
            return []  # `oc new-project` lists first only to learn whether it may self-provision
        raise method_not_allowed()

    def delete(self, req, options: dict) -> dict:
        if req.rt.plural != "projects":
            raise method_not_allowed()

        ns = self._namespace(req.name)
        if ns is None:
            raise not_found(req.rt, req.name)
        ns_rt = self.api.registry.by_name("namespaces")
        self.api.delete_object(Request(req.identity, "delete", ns_rt, name=req.name, params=req.params), ns)
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": req.name, "group": "project.openshift.io", "kind": "projects"},
        }

    # ---- create-only kinds ---------------------------------------------------------------------------------------
    def create(self, req, body: dict) -> dict:
        handler = {
            "projectrequests": self._project_request,
            "projects": self._project,
            "selfsubjectaccessreviews": self._access_review,
            "subjectaccessreviews": self._access_review,
            "localsubjectaccessreviews": self._access_review,
            "selfsubjectreviews": self._whoami,
            "podsecuritypolicysubjectreviews": self._scc_review,
            "podsecuritypolicyselfsubjectreviews": self._scc_review,
            "podsecuritypolicyreviews": self._scc_review,
        }.get(req.rt.plural)
        if handler is None:
            raise method_not_allowed()
        self.api.validate_fields(req, body)
        return handler(req, body)

    def _new_namespace(self, req, name: str, annotations: dict) -> tuple[dict, object]:

        ns_rt = self.api.registry.by_name("namespaces")
        if self._namespace(name) is not None:
            raise already_exists(
                req.rt if req.rt.plural == "projects" else self.api.registry.by_name("projects.project.openshift.io"),
                name,
            )
        sub = Request(req.identity, "create", ns_rt, name=name, params=req.params, user_agent=req.user_agent)
        self.api.validate_name(ns_rt, name)
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "annotations": annotations}}
        return self.api.prepare_new(sub, ns), sub

    def _project(self, req, body: dict) -> dict:
        name = body["metadata"].get("name") or ""
        annotations = {k: v for k, v in (body["metadata"].get("annotations") or {}).items()}
        ns, sub = self._new_namespace(req, name, annotations)
        return self.project_of(self.api.persist(sub, [("put", "namespaces", ns)])[0])

    def _project_request(self, req, body: dict) -> dict:
        """OpenShift's default project template: the namespace with requester annotations and an ``admin``
        RoleBinding for the requester."""
        name = body["metadata"].get("name") or ""
        if not name:
            raise bad_request("a ProjectRequest needs metadata.name")
        annotations = {
            "openshift.io/description": body.get("description", ""),
            "openshift.io/display-name": body.get("displayName", ""),
            "openshift.io/requester": req.identity.username,
        }
        ns, sub = self._new_namespace(req, name, annotations)
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "admin", "namespace": name, "uid": "", "creationTimestamp": ""},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": req.identity.username}],
        }
        binding["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=now())
        stored = self.api.persist(
            sub, [("put", "namespaces", ns), ("put", "rolebindings.rbac.authorization.k8s.io", binding)]
        )
        return self.project_of(stored[0])

    def _whoami(self, req, body: dict) -> dict:
        out = copy.deepcopy(body)
        out["status"] = {"userInfo": {"username": req.identity.username, "groups": list(req.identity.groups)}}
        return out

    def _access_review(self, req, body: dict) -> dict:
        spec = body.get("spec") or {}
        if req.rt.plural == "selfsubjectaccessreviews":
            who = req.identity
        else:
            who = Identity(spec.get("user", ""), tuple(spec.get("groups") or ()))
        res = spec.get("resourceAttributes")
        non = spec.get("nonResourceAttributes")
        if res:
            namespace = req.namespace if req.rt.plural == "localsubjectaccessreviews" else res.get("namespace", "")
            attrs = Attributes(
                verb=res.get("verb", ""),
                group=res.get("group", ""),
                resource=res.get("resource", ""),
                subresource=res.get("subresource", ""),
                namespace=namespace or "",
                name=res.get("name", ""),
            )
        elif non:
            attrs = Attributes(verb=non.get("verb", ""), path=non.get("path", ""))
        else:
            raise bad_request("spec.resourceAttributes or spec.nonResourceAttributes is required")
        allowed = self.api.authz.allowed(who, attrs)
        out = copy.deepcopy(body)
        out["status"] = {"allowed": allowed}
        if allowed:
            out["status"]["reason"] = "allowed by the practice cluster's RBAC"
        return out

    def _scc_review(self, req, body: dict) -> dict:
        out = copy.deepcopy(body)
        spec = body.get("spec") or {}
        template = spec.get("template")
        if not isinstance(template, dict):
            raise bad_request("spec.template is required")
        namespace = self._namespace(req.namespace) or {"metadata": {"name": req.namespace}}
        sccs = self.api.store.list("securitycontextconstraints.security.openshift.io")
        authz = self.api.authz

        def can_use(subject, scc_name: str, ns: str) -> bool:
            return authz.allowed(
                Identity(subject.name, tuple(subject.groups)),
                Attributes(
                    "use", "security.openshift.io", "securitycontextconstraints", namespace=ns or "", name=scc_name
                ),
            )

        if req.rt.plural == "podsecuritypolicysubjectreviews":
            status = scc.subject_review(
                template,
                namespace,
                sccs,
                user=spec.get("user", ""),
                groups=tuple(spec.get("groups") or ()),
                can_use=can_use,
            )
        elif req.rt.plural == "podsecuritypolicyselfsubjectreviews":
            status = scc.self_subject_review(
                template,
                namespace,
                sccs,
                requester=scc.Subject(req.identity.username, tuple(req.identity.groups)),
                can_use=can_use,
            )
        else:
            status = scc.review(
                template, namespace, sccs, service_account_names=spec.get("serviceAccountNames") or (), can_use=can_use
            )
        out["status"] = status
        return out
