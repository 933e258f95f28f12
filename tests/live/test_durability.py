"""State survives a restart and a kill -9 in the middle of writes; resourceVersions keep increasing."""

import threading
import time

import urllib3
from kubernetes import client

from .cluster import temporary_cluster


def _core(cluster):
    return client.CoreV1Api(cluster.api_client())


def test_restart_keeps_objects_and_resource_versions_increase():
    cluster = temporary_cluster()
    with cluster:
        core = _core(cluster)
        made = core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="kept"), data={"a": "1"})
        )
        before = int(core.list_namespaced_config_map("default").metadata.resource_version)
        token = cluster.token()
    with cluster:
        core = _core(cluster)
        kept = core.read_namespaced_config_map("kept", "default")
        assert kept.metadata.uid == made.metadata.uid and kept.data == {"a": "1"}
        assert cluster.token() == token  # the same credentials keep working
        again = core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after"))
        )
        assert int(again.metadata.resource_version) > before


def test_kill_minus_nine_during_writes_leaves_only_whole_objects():
    cluster = temporary_cluster()
    cluster.start()
    try:
        core = _core(cluster)
        payload = {f"k{i}": "x" * 2000 for i in range(20)}  # big enough that a torn write would show
        stop = threading.Event()
        written, failures = [], []

        def writer(worker):
            i = 0
            while not stop.is_set():
                try:
                    core.create_namespaced_config_map(
                        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"w{worker}-{i}"), data=payload)
                    )
                    written.append(f"w{worker}-{i}")
                except (urllib3.exceptions.HTTPError, OSError):  # the server died under us, as intended
                    return
                except Exception as err:  # anything else (a 500, a refused write) is a real failure
                    failures.append(err)
                    return
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(written) < 30 and not failures and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not failures, f"a write failed while the server was up: {failures[0]!r}"
        assert len(written) >= 30, f"only {len(written)} writes were acknowledged in 60 s"
        cluster.kill()
        stop.set()
        for t in threads:
            t.join(10)
        cluster.start()
        core = _core(cluster)
        items = core.list_namespaced_config_map("default").items
        names = {c.metadata.name for c in items}
        assert set(written) <= names  # every acknowledged write survived
        for cm in items:
            if cm.metadata.name.startswith("w"):
                assert cm.data == payload and cm.metadata.uid
        top = max(int(c.metadata.resource_version) for c in items)
        fresh = core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="fresh"))
        )
        assert int(fresh.metadata.resource_version) > top
    finally:
        cluster.stop()
