"""OpenShift security context constraints as a library: the default SCCs (data), their order, admission of a
pod with OpenShift's exact rejection message, the SCC review APIs, and a planner for the grants a chart needs."""

from .admission import (
    REQUIRED_SCC_ANNOTATION,
    SCC_ANNOTATION,
    SUBJECT_TYPE_ANNOTATION,
    AdmissionResult,
    admit,
)
from .fielderrors import FieldError
from .images import image_repository, load_image_requirements
from .manifests import load_manifests
from .planner import Grant, GrantReview, Plan, plan_grants, seed_recipe_grants
from .provider import NamespaceNotReady, ProviderError
from .rbac import Subject, can_use_from_rbac, scc_grant_binding, service_account_subject
from .review import (
    review,
    review_request,
    self_subject_review,
    self_subject_review_request,
    subject_review,
    subject_review_request,
)
from .sccs import by_restriction, default_scc_rbac, load_sccs, points, sort_sccs

__all__ = [
    "AdmissionResult",
    "FieldError",
    "NamespaceNotReady",
    "ProviderError",
    "Grant",
    "GrantReview",
    "Plan",
    "REQUIRED_SCC_ANNOTATION",
    "SCC_ANNOTATION",
    "SUBJECT_TYPE_ANNOTATION",
    "Subject",
    "admit",
    "by_restriction",
    "can_use_from_rbac",
    "default_scc_rbac",
    "image_repository",
    "load_image_requirements",
    "load_manifests",
    "load_sccs",
    "plan_grants",
    "points",
    "review",
    "review_request",
    "scc_grant_binding",
    "seed_recipe_grants",
    "self_subject_review",
    "self_subject_review_request",
    "service_account_subject",
    "sort_sccs",
    "subject_review",
    "subject_review_request",
]
