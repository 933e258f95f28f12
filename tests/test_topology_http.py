"""snapshot() and LiveTopology over real HTTPS, against a small in-test API server that counts what it is asked.

It serves only what the topology reads — lists and watches of six kinds in one namespace — so the test can count
requests per kind and open watch streams at the server side.
"""

import asyncio
import datetime
import ipaddress
import json
import re
import socket
import ssl
import threading
from collections import Counter

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client
from test_topology import sample_objects

from clearml_lab import topology
from clearml_lab.errors import LabError

PATH = re.compile(r"^/(?:api/v1|apis/(?P<group>[^/]+/[^/]+))/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)$")
TOKEN = "test-token"


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class MiniApiServer:
    def __init__(self, objects, serve_routes=True):
        self.objects = {plural: {o["metadata"]["name"]: o for o in items} for plural, items in objects.items()}
        self.serve_routes = serve_routes
        self.version = 100
        self.lists, self.watches_opened = Counter(), Counter()
        self.watched_from: dict[str, list[str | None]] = {}  # plural -> resourceVersion of each watch request
        self.open_watches = 0
        self.watchers: list[tuple[str, asyncio.Queue]] = []
        self.loop = asyncio.new_event_loop()

    async def handle(self, request):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"kind": "Status", "code": 401}, status=401)
        match = PATH.match(request.path)
        plural = match and match["plural"]
        if not match or plural not in topology.KINDS or (plural == "routes" and not self.serve_routes):
            return web.json_response({"kind": "Status", "code": 404, "reason": "NotFound"}, status=404)
        if request.query.get("watch") in ("true", "1", "True"):
            return await self.watch(request, plural)
        self.lists[plural] += 1
        return web.json_response(
            {
                "kind": "List",
                "metadata": {"resourceVersion": str(self.version)},
                "items": list(self.objects.get(plural, {}).values()),
            }
        )

    async def watch(self, request, plural):
        self.watches_opened[plural] += 1
        self.watched_from.setdefault(plural, []).append(request.query.get("resourceVersion"))
        self.open_watches += 1
        queue = asyncio.Queue()
        entry = (plural, queue)
        self.watchers.append(entry)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            while request.transport is not None and not request.transport.is_closing():
                try:
                    event = await asyncio.wait_for(queue.get(), 0.05)
                except TimeoutError:
                    continue
                if event is None:  # the server ends the stream, as at its timeoutSeconds
                    break
                await response.write(json.dumps(event).encode() + b"\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.watchers.remove(entry)
            self.open_watches -= 1
        return response

    def change(self, plural, kind, obj):
        """Store a change and send it to that kind's watchers (called from the test's thread)."""

        def apply():
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)
            if kind == "DELETED":
                self.objects[plural].pop(obj["metadata"]["name"], None)
            else:
                self.objects.setdefault(plural, {})[obj["metadata"]["name"]] = obj
            for watched, queue in self.watchers:
                if watched == plural:
                    queue.put_nowait({"type": kind, "object": obj})

        self.loop.call_soon_threadsafe(apply)

    def end_watches(self, plural, error=None):
        """End that kind's open watch streams, after an ERROR event carrying ``error`` (a Status) if given."""

        def end():
            for watched, queue in self.watchers:
                if watched == plural:
                    if error:
                        queue.put_nowait({"type": "ERROR", "object": {"kind": "Status", **error}})
                    queue.put_nowait(None)

        self.loop.call_soon_threadsafe(end)

    def run(self, tmp_path):
        cert, key = _certificate(tmp_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        ready = threading.Event()

        async def start():
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
            await site.start()
            self.port = runner.addresses[0][1]
            ready.set()

        def serve():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(start())
            self.loop.run_forever()
            self.loop.run_until_complete(runner.cleanup())

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(10)
        configuration = client.Configuration()
        configuration.host = f"https://127.0.0.1:{self.port}"
        configuration.ssl_ca_cert = str(cert)
        configuration.api_key = {"authorization": TOKEN}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        return client.ApiClient(configuration)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def server(tmp_path):
    mini = MiniApiServer(sample_objects())
    api_client = mini.run(tmp_path)
    yield mini, api_client
    mini.stop()


def _wait_for(predicate, timeout=10.0):
    pause = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        pause.wait(0.02)
    return predicate()


def test_snapshot_lists_each_kind_once(server):
    mini, api_client = server
    topo = topology.snapshot(api_client, "clearml")
    assert mini.lists == Counter({plural: 1 for plural in topology.KINDS})
    assert topo == topology.build(sample_objects(), "clearml")


def test_snapshot_without_routes_api(tmp_path):
    mini = MiniApiServer(sample_objects(), serve_routes=False)
    api_client = mini.run(tmp_path)
    try:
        topo = topology.snapshot(api_client, "clearml")
        assert topo.routes == () and len(topo.nodes) == 4
    finally:
        mini.stop()


def test_snapshot_refused_is_one_sentence(server):
    mini, api_client = server
    api_client.configuration.api_key = {"authorization": "wrong"}
    with pytest.raises(LabError, match=r"^the cluster refused to list deployments in namespace clearml \(401"):
        topology.snapshot(api_client, "clearml")


def test_live_topology_follows_watch_events_and_closes_its_streams(server):
    mini, api_client = server
    seen = []
    live = topology.LiveTopology(api_client, "clearml", on_change=seen.append)
    live.start()
    assert _wait_for(lambda: mini.open_watches == len(topology.KINDS))
    web_deployment = json.loads(json.dumps(mini.objects["deployments"]["web"]))
    web_deployment["spec"]["replicas"] = 4
    mini.change("deployments", "MODIFIED", web_deployment)
    assert _wait_for(lambda: seen and seen[-1].node("deployment", "web").counts.not_created == 2)
    new_pod = json.loads(json.dumps(mini.objects["pods"]["web-7f9c-aaaaa"]))
    new_pod["metadata"].update(name="web-7f9c-ccccc", uid="uid-web-7f9c-ccccc")
    mini.change("pods", "ADDED", new_pod)
    assert _wait_for(lambda: seen[-1].node("deployment", "web").counts.running == 3)
    assert "deployment/web 3/4" in topology.to_text(live.topology)
    assert mini.lists == Counter({plural: 1 for plural in topology.KINDS})  # updates came from events only
    threads = live.threads()
    live.close()
    assert not any(t.is_alive() for t in threads)
    assert _wait_for(lambda: mini.open_watches == 0), "the server still holds a watch from the closed view"
    assert mini.watches_opened == Counter({plural: 1 for plural in topology.KINDS})


def test_live_topology_watches_on_after_a_stream_ends_and_lists_again_after_410_gone_or_a_break(server):
    mini, api_client = server
    seen = []
    live = topology.LiveTopology(api_client, "clearml", on_change=seen.append)
    live.start()
    try:
        assert _wait_for(lambda: mini.open_watches == len(topology.KINDS))
        new_pod = json.loads(json.dumps(mini.objects["pods"]["web-7f9c-aaaaa"]))
        new_pod["metadata"].update(name="web-7f9c-ccccc", uid="uid-web-7f9c-ccccc")
        mini.change("pods", "ADDED", new_pod)
        assert _wait_for(lambda: seen and seen[-1].node("deployment", "web").counts.running == 3)
        version = new_pod["metadata"]["resourceVersion"]

        mini.end_watches("pods")  # a stream ends normally: watch on from the last version seen, no list
        assert _wait_for(lambda: mini.watches_opened["pods"] == 2 and mini.open_watches == len(topology.KINDS))
        assert mini.watched_from["pods"] == ["100", version] and mini.lists["pods"] == 1

        # 410 Gone: that version is too old to watch from. List the kind again (what changed meanwhile shows) and
        # watch from the new list's version; nothing is reported as broken.
        mini.objects["pods"].pop("web-7f9c-ccccc")
        mini.end_watches("pods", {"code": 410, "reason": "Expired", "message": "too old resource version"})
        assert _wait_for(lambda: mini.watches_opened["pods"] == 3 and mini.open_watches == len(topology.KINDS))
        assert mini.lists["pods"] == 2 and mini.watched_from["pods"][-1] == str(mini.version)
        assert _wait_for(lambda: seen[-1].node("deployment", "web").counts.running == 2)
        assert live.errors == []

        # Any other error breaks the stream: said in errors, then a pause, a list and a new watch.
        mini.end_watches("pods", {"code": 500, "reason": "InternalError", "message": "etcd is unwell"})
        assert _wait_for(lambda: mini.watches_opened["pods"] == 4 and mini.open_watches == len(topology.KINDS))
        assert live.errors == ["watch of pods broke (ApiFailure); listing again"]
        assert mini.lists == Counter({plural: 1 + 2 * (plural == "pods") for plural in topology.KINDS})
    finally:
        live.close()
    assert _wait_for(lambda: mini.open_watches == 0)


def test_snapshot_of_an_unreachable_cluster_is_one_sentence():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configuration = client.Configuration()
    configuration.host = f"https://127.0.0.1:{port}"
    configuration.retries = False
    with pytest.raises(
        LabError,
        match=rf"^cannot reach https://127.0.0.1:{port} to list deployments "
        r"\(\w+\): check that the cluster is running",
    ):
        topology.snapshot(client.ApiClient(configuration), "clearml")
