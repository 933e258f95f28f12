"""Projects as OpenShift serves them: a view of the namespaces the user may see, watchable."""
import uuid

from clearml_lab.kube import Kube


def test_project_watch_shows_only_visible_projects_and_their_deletion(practice_cluster):
    admin = Kube(practice_cluster.api_client("kubeadmin"))
    developer = Kube(practice_cluster.api_client("developer"))
    mine, other = f"p-{uuid.uuid4().hex[:6]}", f"p-{uuid.uuid4().hex[:6]}"
    start = developer.list("projects")["metadata"]["resourceVersion"]
    developer.create("projectrequests", {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
                                         "metadata": {"name": mine}})
    admin.create("projectrequests", {"apiVersion": "project.openshift.io/v1", "kind": "ProjectRequest",
                                     "metadata": {"name": other}})
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
