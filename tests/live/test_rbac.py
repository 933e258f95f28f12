"""Authorization comes only from stored RBAC objects: bindings change access at once, and nobody grants more
than they hold (Kubernetes' escalation prevention, OpenShift's SCC use-roles)."""

import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException


@pytest.fixture(scope="module")
def admin(practice_cluster):
    return practice_cluster.api_client("kubeadmin")


@pytest.fixture(scope="module")
def developer(practice_cluster):
    return practice_cluster.api_client("developer")


def _binding(name, role, kind="ClusterRole", namespace=None, subject=("User", "developer")):
    meta = client.V1ObjectMeta(name=name, namespace=namespace)
    subjects = [client.RbacV1Subject(kind=subject[0], name=subject[1], api_group="rbac.authorization.k8s.io")]
    ref = client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind=kind, name=role)
    if namespace:
        return client.V1RoleBinding(metadata=meta, role_ref=ref, subjects=subjects)
    return client.V1ClusterRoleBinding(metadata=meta, role_ref=ref, subjects=subjects)


def test_adding_and_removing_a_role_binding_changes_access(admin, developer, namespace):
    dev_core = client.CoreV1Api(developer)
    with pytest.raises(ApiException) as before:
        dev_core.list_namespaced_config_map(namespace)
    assert before.value.status == 403
    assert (
        f'User \\"developer\\" cannot list resource \\"configmaps\\" in API group \\"\\" in the namespace '
        f'\\"{namespace}\\"' in before.value.body
    )
    rbac = client.RbacAuthorizationV1Api(admin)
    rbac.create_namespaced_role_binding(namespace, _binding("dev-view", "view", namespace=namespace))
    assert dev_core.list_namespaced_config_map(namespace).items == []
    with pytest.raises(ApiException) as write:
        dev_core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="x")))
    assert write.value.status == 403  # view does not write
    rbac.delete_namespaced_role_binding("dev-view", namespace)
    with pytest.raises(ApiException) as after:
        dev_core.list_namespaced_config_map(namespace)
    assert after.value.status == 403


def test_developer_cannot_grant_an_scc_but_kubeadmin_can(admin, developer):
    name = f"system:openshift:scc:anyuid-{uuid.uuid4().hex[:6]}"
    binding = _binding(name, "system:openshift:scc:anyuid", subject=("ServiceAccount", "default"))
    binding.subjects[0].namespace = "default"
    binding.subjects[0].api_group = None
    with pytest.raises(ApiException) as refused:
        client.RbacAuthorizationV1Api(developer).create_cluster_role_binding(binding)
    assert refused.value.status == 403 and "Forbidden" in refused.value.body
    made = client.RbacAuthorizationV1Api(admin).create_cluster_role_binding(binding)
    assert made.role_ref.name == "system:openshift:scc:anyuid"
    review = client.AuthorizationV1Api(admin).create_subject_access_review(
        client.V1SubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user="system:serviceaccount:default:default",
                groups=["system:serviceaccounts"],
                resource_attributes=client.V1ResourceAttributes(
                    verb="use",
                    group="security.openshift.io",
                    resource="securitycontextconstraints",
                    name="anyuid",
                    namespace="default",
                ),
            )
        )
    )
    assert review.status.allowed is True
    client.RbacAuthorizationV1Api(admin).delete_cluster_role_binding(name)


def test_project_admin_cannot_escalate_inside_their_own_project(practice_cluster, developer):
    project = f"p-{uuid.uuid4().hex[:8]}"
    practice_cluster.run(
        "kubectl",
        "--context",
        "developer",
        "create",
        "-f",
        "-",
        input=(f"apiVersion: project.openshift.io/v1\nkind: ProjectRequest\nmetadata: {{name: {project}}}\n"),
    )
    rbac = client.RbacAuthorizationV1Api(developer)
    # admin may hand out edit in its project: every rule of edit is one the admin holds there
    rbac.create_namespaced_role_binding(
        project, _binding("friend-edit", "edit", namespace=project, subject=("User", "friend"))
    )
    for role in ("cluster-admin", "system:openshift:scc:privileged"):
        with pytest.raises(ApiException) as refused:
            rbac.create_namespaced_role_binding(
                project, _binding(f"x-{role.replace(':', '-')}", role, namespace=project, subject=("User", "friend"))
            )
        assert refused.value.status == 403
        assert "is attempting to grant RBAC permissions not currently held" in refused.value.body
    with pytest.raises(ApiException) as role_refused:
        rbac.create_namespaced_role(
            project,
            client.V1Role(
                metadata=client.V1ObjectMeta(name="too-much"),
                rules=[client.V1PolicyRule(api_groups=["*"], resources=["*"], verbs=["*"])],
            ),
        )
    assert role_refused.value.status == 403


def test_self_subject_access_review_answers_from_rbac(developer):
    review = client.AuthorizationV1Api(developer).create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    verb="create", group="project.openshift.io", resource="projectrequests"
                )
            )
        )
    )
    assert review.status.allowed is True
    review = client.AuthorizationV1Api(developer).create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(verb="list", resource="secrets", namespace="default")
            )
        )
    )
    assert review.status.allowed is False


def test_whoami_and_bad_tokens(practice_cluster):
    code, _, body = practice_cluster.request(
        "GET", "/apis/user.openshift.io/v1/users/~", token=practice_cluster.token("developer")
    )
    assert code == 200 and b'"name":"developer"' in body
    code, _, body = practice_cluster.request("GET", "/api/v1/namespaces", token="sha256~not-a-token")
    assert code == 401 and b'"reason":"Unauthorized"' in body
    code, _, body = practice_cluster.request("GET", "/api/v1/namespaces", token=None)
    assert code == 401
