"""Twenty clients writing, listing and watching at once for thirty seconds (issue 3's bar): no 5xx, no lost write,
and every watcher sees every event in order."""

import threading
import time

from kubernetes import client, watch
from kubernetes.client.rest import ApiException

WRITERS, WATCHERS, SECONDS = 14, 6, 30.0


def _deleted_rv(response) -> int:
    """The server answers a delete with the deleted object; the typed client hands it back as a dict."""
    meta = response["metadata"] if isinstance(response, dict) else response.metadata.to_dict()
    return int(meta.get("resourceVersion") or meta.get("resource_version"))


def test_concurrent_writers_and_watchers_agree(practice_cluster, namespace):
    start_rv = (
        client.CoreV1Api(practice_cluster.api_client()).list_namespaced_config_map(namespace).metadata.resource_version
    )
    writes: list[tuple[int, str, str]] = []  # (rv, type, name) acknowledged by the server
    failures: list[str] = []
    lock = threading.Lock()
    done = threading.Event()

    def writer(n):
        core = client.CoreV1Api(practice_cluster.api_client())
        i = 0
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            name = f"w{n}-{i}"
            try:
                made = core.create_namespaced_config_map(
                    namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"v": "0"})
                )
                patched = core.patch_namespaced_config_map(name, namespace, {"data": {"v": "1"}})
                core.list_namespaced_config_map(namespace, limit=5)
                gone = core.delete_namespaced_config_map(name, namespace)
                with lock:
                    writes.extend(
                        [
                            (int(made.metadata.resource_version), "ADDED", name),
                            (int(patched.metadata.resource_version), "MODIFIED", name),
                            (_deleted_rv(gone), "DELETED", name),
                        ]
                    )
            except ApiException as err:
                failures.append(f"{err.status} {err.reason}")
            i += 1

    seen = {w: [] for w in range(WATCHERS)}

    def watcher(w):
        core = client.CoreV1Api(practice_cluster.api_client())
        stream = watch.Watch()
        for event in stream.stream(
            core.list_namespaced_config_map, namespace, resource_version=start_rv, timeout_seconds=int(SECONDS) + 20
        ):
            obj = event["object"]
            seen[w].append((int(obj.metadata.resource_version), event["type"], obj.metadata.name))
            if done.is_set() and len(seen[w]) >= len(writes):
                stream.stop()

    watchers = [threading.Thread(target=watcher, args=(w,)) for w in range(WATCHERS)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in watchers + writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    # one more write wakes watchers that are idle, so they notice they are done
    client.CoreV1Api(practice_cluster.api_client()).create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="last"))
    )
    for t in watchers:
        t.join(30)
    assert failures == []
    assert len(writes) >= 3 * WRITERS
    expected = sorted(writes)
    for w in range(WATCHERS):
        got = [e for e in seen[w] if e[2] != "last"]
        assert got == expected  # every event, each once, in resourceVersion order
