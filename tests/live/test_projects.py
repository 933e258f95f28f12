"""Projects as OpenShift serves them: a view of the namespaces the user may see, watchable."""

import uuid

from clearml_lab.kube import Kube


def test_project_watch_shows_only_visible_projects_and_their_deletion(practice_cluster):
    admin = Kube(practice_cluster.api_client("kubeadmin"))
    developer = Kube(practice_cluster.api_client("developer"))
    mine, other = f"p-{uuid.uuid4().hex[:6]}", f"p-{uuid.uuid4().hex[:6]}"
    start = developer.list("projects")["metadata"]["resourceVersion"]
    developer.create(
        "projectrequests",
        {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest", "metadata": {"name": mine}},
    )
    admin.create(
        "projectrequests",
        {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest", "metadata": {"name": other}},
    )
    developer.delete("projects", mine)
    seen = []
    for event in developer.watch("projects", resource_version=start, timeout_seconds=10):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        assert event["object"]["kind"] == "Project"
        if ("DELETED", mine) in seen:
            break
    assert ("ADDED", mine) in seen and ("DELETED", mine) in seen
    assert all(name != other for _, name in seen), "a project the developer may not see leaked into the watch"
    admin.delete("projects", other)


def test_scc_refusal_of_a_generated_pod_names_its_prefix(practice_cluster):
    """OpenShift generates a pod's name after admission, so the refusal names the generateName prefix."""
    from clearml_lab.kube import ApiFailure
    from clearml_lab.oc import new_project

    developer = Kube(practice_cluster.api_client("developer"))
    project = f"p-{uuid.uuid4().hex[:6]}"
    new_project(developer, project)  # the developer's own project: it may use restricted-v2 only
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "web-6f56f884d-"},
        "spec": {"containers": [{"name": "c", "image": "example/app:1", "securityContext": {"privileged": True}}]},
    }
    try:
        developer.create("pods", pod, project)
    except ApiFailure as err:
        assert err.code == 403
        assert err.message.startswith(
            'pods "web-6f56f884d-" is forbidden: unable to validate against any security context constraint: ['
        )
    else:
        raise AssertionError("a privileged pod was admitted for a developer")
    finally:
        developer.delete("projects", project)


def test_a_watch_started_from_a_list_sees_the_deletion(practice_cluster):
    """list, then watch from its resourceVersion — how clients wait for a project to be gone."""
    admin = Kube(practice_cluster.api_client("kubeadmin"))
    name = f"p-{uuid.uuid4().hex[:6]}"
    admin.create(
        "projectrequests",
        {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest", "metadata": {"name": name}},
    )
    admin.delete("projects", name)
    listing = admin.list("projects")
    if all(p["metadata"]["name"] != name for p in listing["items"]):
        return  # already gone before the list: nothing to wait for
    events = admin.watch("projects", resource_version=listing["metadata"]["resourceVersion"], timeout_seconds=20)
    assert any(e["type"] == "DELETED" and e["object"]["metadata"]["name"] == name for e in events)
