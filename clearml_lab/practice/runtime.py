"""One practice cluster process: store, API, HTTPS server, chart repository and controllers, started in order and
stopped cleanly."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import logging
import os
import signal
import ssl
from pathlib import Path

import aiohttp
from aiohttp import web

from ..errors import LabError
from . import chartrepo
from .api import Api, Request
from .auth import Authenticator, kubeconfig, load_tokens, write_kubeconfig
from .client import ControllerContext, Identity
from .controllers import CONTROLLERS
from .controllers.volume import DRIVER, MANAGED_BY, PUBLISHER, published_capacity
from .internal import InternalClient
from .pki import ensure_certificates
from .registry import default_registry
from .registry import release as find_release
from .seed import ensure_release, seed
from .server import Server, ssl_context
from .store import Store

log = logging.getLogger(__name__)
# The server's own writes (publishing the chart repository) go through the chain as a cluster administrator.
SYSTEM_ADMIN = Identity("system:admin", ("system:cluster-admins", "system:authenticated"))
SERVER_FILE = "server.json"
LISTEN_FILE = "listen.json"  # the address and ports of the last start: kept, so handed-out kubeconfigs keep working


def _lock(state: Path):
    handle = open(state / "lock", "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        info = read_server_file(state) or {}
        raise LabError(
            f"another practice cluster (pid {info.get('pid', '?')}) already serves {state}; stop it with "
            "`clearml-lab practice down` or choose another --state."
        ) from None
    return handle


def serving(state: Path) -> dict | None:
    """What server.json says, if a server holds the state's lock now. A server killed with -9 leaves its file
    behind, and its pid may be a zombie or reused: only the lock, released by the kernel, tells."""
    info = read_server_file(state)
    if not info:
        return None
    try:
        with open(state / "lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: nobody serves; closing releases it again
    except BlockingIOError:
        return info
    except OSError:
        return None
    return None


def read_listen_file(state: Path) -> dict:
    try:
        data = json.loads((state / LISTEN_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def read_server_file(state: Path) -> dict | None:
    try:
        return json.loads((state / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None


class Cluster:
    def __init__(
        self,
        state: Path,
        kubeconfig_path: Path,
        *,
        port: int = 0,
        time_scale: float = 1.0,
        openshift_version: str | None = None,
        storage_capacity: str = "8Ti",
        address: str | None = None,
    ):
        self.state = state
        self.kubeconfig_path = kubeconfig_path
        self.port = port
        self.address = address  # None: the address of the last start, else 127.0.0.1
        self.time_scale = time_scale
        self.release = find_release(openshift_version)
        self.storage_capacity = storage_capacity
        self.tasks: list[asyncio.Task] = []
        self.runners: list[web.AppRunner] = []

    async def run(self, stop: asyncio.Event) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        lock = _lock(self.state)
        self.kubeconfig_path.unlink(missing_ok=True)  # a file left from an earlier run must not look ready
        store = Store(self.state / "cluster.db")
        try:
            await self._run(store, stop)
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for runner in self.runners:
                await runner.cleanup()
            store.close()
            (self.state / SERVER_FILE).unlink(missing_ok=True)
            lock.close()

    async def _run(self, store: Store, stop: asyncio.Event) -> None:
        api = Api(store, default_registry(), self.release)
        seed(api)
        ensure_release(api)
        tokens = load_tokens(self.state)
        last = read_listen_file(self.state)
        address = self.address or last.get("address") or "127.0.0.1"
        ca, cert, key = ensure_certificates(self.state, address)
        server = Server(
            api,
            Authenticator(
                tokens, oauth_token=lambda name: api.store.get("oauthaccesstokens.oauth.openshift.io", "", name)
            ),
        )
        # A short shutdown: open watches and idle keep-alive connections must not hold a stop up.
        runner = web.AppRunner(server.app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await runner.setup()
        self.runners.append(runner)
        port = await self._listen(runner, address, self.port, last.get("port"), ssl_context(cert, key))
        url = f"https://{url_host(address)}:{port}"
        await self._check_answers(url, ca, tokens["kubeadmin"])
        repo_site = await self._chart_repository_site(address, last.get("chart_port"))
        repo_port = int(repo_site.rsplit(":", 1)[1])
        (self.state / LISTEN_FILE).write_text(json.dumps({"address": address, "port": port, "chart_port": repo_port}))
        api.settings.update(self._settings(api, repo_site))
        self._publish_storage_capacity(api)
        self._start_controllers(api)
        write_kubeconfig(self.kubeconfig_path, kubeconfig(url, ca.read_bytes(), tokens))
        (self.state / SERVER_FILE).write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "port": port,
                    "url": url,
                    "kubeconfig": str(self.kubeconfig_path.resolve()),
                    "chart_repository": repo_site,
                    "openshift_version": self.release.openshift,
                }
            )
        )
        # Packaging the charts takes seconds: the repository is published at once, the API answers meanwhile, and
        # the chart server holds requests until the index is written.
        self._publish_repository(api, repo_site)
        self.tasks.append(asyncio.create_task(self._build_chart_repository(repo_site)))
        log.info("practice cluster (OpenShift %s) serving %s", self.release.openshift, url)
        await stop.wait()

    @staticmethod
    async def _listen(runner: web.AppRunner, address: str, port: int, kept: int | None, ssl=None) -> int:
        """Bind ``address``: the port asked for, else the one of the last start (so the kubeconfigs handed out keep
        working), else a free one. Returns the port."""
        for candidate in [port] if port else ([kept] if kept else []) + [0]:
            site = web.TCPSite(runner, address, candidate, ssl_context=ssl)
            try:
                await site.start()
            except OSError as err:
                if err.errno == errno.EADDRNOTAVAIL:
                    raise LabError(
                        f"address {address} is not one of this machine's: give --address an address of "
                        f"this machine that learners can reach (e.g. its classroom IP)."
                    ) from None
                if err.errno != errno.EADDRINUSE:
                    raise
                if candidate == port:
                    raise LabError(
                        f"port {port} on {address} is already in use: choose another with --port, or "
                        "--port 0 for a free one."
                    ) from None
                log.warning(
                    "port %s of the last start is in use now; serving on a new port: kubeconfigs written "
                    "for the old one need `clearml-lab workshop provision` again",
                    candidate,
                )
                continue
            return site._server.sockets[0].getsockname()[1]
        raise LabError(f"no free port on {address}.")

    @staticmethod
    async def _check_answers(url: str, ca: Path, token: str) -> None:
        ctx = ssl.create_default_context(cafile=str(ca))
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            async with session.get(f"{url}/version", ssl=ctx) as response:
                if response.status != 200:
                    raise LabError(f"the practice cluster did not answer its own /version ({response.status}).")

    def _settings(self, api: Api, repo_url: str | None) -> dict:
        ingress = api.store.get("ingresses.config.openshift.io", "", "cluster") or {}
        spec = ingress.get("spec") or {}
        return {
            "openshift_version": self.release.openshift,
            "kubernetes_version": self.release.kubernetes,
            "apps_domain": spec.get("appsDomain") or spec.get("domain") or "apps.practice.local",
            "node_sysctls": {"vm.max_map_count": 65530},
            "storage_capacity": self.storage_capacity,
            "chart_repository": repo_url,
            "state_dir": str(self.state),
        }

    # ---- chart repository ----------------------------------------------------------------------------------------
    async def _chart_repository_site(self, address: str = "127.0.0.1", kept: int | None = None) -> str:
        """Serve state/chartrepo over plain HTTP on a second port of the same address (the one of the last start
        when free, so learners' helm repository entries keep working)."""
        out_dir = self.state / "chartrepo"
        out_dir.mkdir(exist_ok=True)
        self.repo_ready = asyncio.Event()

        @web.middleware
        async def wait_for_build(request, handler):
            await self.repo_ready.wait()
            return await handler(request)

        app = web.Application(middlewares=[wait_for_build])
        app.router.add_static("/", out_dir, show_index=False)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self.runners.append(runner)
        port = await self._listen(runner, address, 0, kept)
        return f"http://{url_host(address)}:{port}"

    async def _build_chart_repository(self, base_url: str) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, chartrepo.build_repository, self.state / "chartrepo", base_url
            )
        except Exception:  # the API stays useful without the chart; the failure is in the log (and helm sees 404)
            log.exception("could not build the practice chart repository")
        finally:
            self.repo_ready.set()

    @staticmethod
    def _publish_repository(api: Api, url: str) -> None:
        rt = api.registry.by_name("helmchartrepositories.helm.openshift.io")
        wanted = {
            "apiVersion": rt.api_version,
            "kind": rt.kind,
            "metadata": {"name": "clearml"},
            "spec": {
                "name": "ClearML (practice)",
                "connectionConfig": {"url": url},
                "description": "The practice cluster's mirror of the ClearML Helm charts",
            },
        }
        current = api.store.get(rt.name, "", "clearml")
        req = Request(SYSTEM_ADMIN, "create", rt, name="clearml", user_agent="practice-apiserver")
        if current is None:
            api.create(req, wanted)
        else:
            req.verb = "update"
            api.update(req, {**current, "spec": {**current.get("spec", {}), **wanted["spec"]}})

    def _publish_storage_capacity(self, api: Api) -> None:
        """The default class's free space as its CSI driver publishes it (CSIStorageCapacity, with the labels
        external-provisioner sets), for the scheduler and the lab's storage prerequisite. --storage-capacity is the
        total (small, to show 155 Gi not fitting); the volume controller keeps the object at total less volumes."""
        rt = api.registry.by_name("csistoragecapacities.storage.k8s.io")
        name, namespace, class_name = "practice-standard-csi", "kube-system", "standard-csi"
        storage_class = api.store.get("storageclasses.storage.k8s.io", "", class_name) or {}
        labels = {MANAGED_BY: PUBLISHER, DRIVER: storage_class.get("provisioner", "")}
        capacity = published_capacity(class_name, api.store.list("persistentvolumes"), api.settings)
        wanted = {
            "apiVersion": rt.api_version,
            "kind": rt.kind,
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "storageClassName": class_name,
            "capacity": capacity,
            "nodeTopology": {"matchLabels": {"kubernetes.io/hostname": "practice-node"}},
        }
        current = api.store.get(rt.name, namespace, name)
        req = Request(SYSTEM_ADMIN, "create", rt, namespace=namespace, name=name, user_agent="practice-apiserver")
        if current is None:
            api.create(req, wanted)
        elif current.get("capacity") != capacity or (current["metadata"].get("labels") or {}) != labels:
            req.verb = "update"
            meta = {**current["metadata"], "labels": labels}
            api.update(req, {**current, "metadata": meta, "capacity": capacity})

    # ---- controllers ---------------------------------------------------------------------------------------------
    def _start_controllers(self, api: Api) -> None:
        ctx = ControllerContext(
            client_for=lambda identity: InternalClient(api, identity),
            time_scale=self.time_scale,
            settings=dict(api.settings),
        )
        for run in CONTROLLERS:
            self.tasks.append(asyncio.create_task(self._supervise(run, ctx), name=getattr(run, "__module__", "")))

    @staticmethod
    async def _supervise(run, ctx: ControllerContext) -> None:
        """Restart a controller that crashed, after a pause, as the controller manager would."""
        while True:
            try:
                await run(ctx)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("controller %s failed; restarting it", getattr(run, "__module__", run))
                await asyncio.sleep(1.0)


def serve_forever(cluster: Cluster) -> int | None:
    """Serve until SIGTERM or SIGINT; returns the signal that stopped it."""
    received: list[int] = []

    async def main():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda sig=sig: (received.append(sig), stop.set()))
        await cluster.run(stop)

    asyncio.run(main())
    return received[0] if received else None
