"""Practice-cluster throughput on loopback: 20 concurrent clients doing get and list in a loop, each holding a watch
open on the same namespace while one writer changes a ConfigMap, so every change fans out to 20 watchers."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import aiohttp
from cluster import PracticeCluster, delta, request_totals
from figures import Figure

NAMESPACE = "bench-throughput"
OBJECTS = 20


async def _reader(session, base: str, stats: Counter, stop: float, index: int) -> None:
    paths = [f"{base}/configmaps/cm-{index % OBJECTS}", f"{base}/configmaps"]
    turn = 0
    while time.monotonic() < stop:
        try:
            async with session.get(paths[turn % 2]) as response:
                await response.read()
                stats["5xx" if response.status >= 500 else "ok" if response.status < 400 else "4xx"] += 1
        except (TimeoutError, aiohttp.ClientError):
            stats["connection errors"] += 1
        turn += 1


async def _watcher(session, base: str, stats: Counter, seconds: int, rv: str) -> None:
    try:
        async with session.get(
            f"{base}/configmaps", params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": str(seconds)}
        ) as response:
            if response.status >= 500:
                stats["5xx"] += 1
                return
            async for line in response.content:
                if line.strip() and json.loads(line).get("type") == "MODIFIED":
                    stats["watch events"] += 1
            stats["ok"] += 1
    except (TimeoutError, aiohttp.ClientError):
        stats["connection errors"] += 1


async def _writer(session, base: str, stats: Counter, stop: float) -> None:
    turn = 0
    while time.monotonic() < stop:
        body = json.dumps({"data": {"turn": str(turn)}})
        try:
            async with session.patch(
                f"{base}/configmaps/cm-{turn % OBJECTS}",
                data=body,
                headers={"Content-Type": "application/merge-patch+json"},
            ) as response:
                await response.read()
                stats["writes" if response.status < 400 else "write errors"] += 1
        except (TimeoutError, aiohttp.ClientError):
            stats["write errors"] += 1
        turn += 1
        await asyncio.sleep(0.05)


async def _run(cluster: PracticeCluster, clients: int, seconds: int) -> tuple[Counter, Counter, float]:
    ssl = cluster.ssl_context()
    headers = {"Authorization": f"Bearer {cluster.token()}", "Accept": "application/json"}
    base = f"{cluster.server}/api/v1/namespaces/{NAMESPACE}"
    sessions = [
        aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(ssl=ssl, limit=2))
        for _ in range(clients + 1)
    ]  # one connection pool per client, as separate processes would have
    reads, writes = Counter(), Counter()
    try:
        async with sessions[0].get(f"{base}/configmaps") as response:
            rv = (await response.json())["metadata"]["resourceVersion"]
        start = time.monotonic()
        stop = start + seconds
        tasks = [_reader(s, base, reads, stop, i) for i, s in enumerate(sessions[:clients])]
        tasks += [_watcher(s, base, reads, seconds, rv) for s in sessions[:clients]]
        tasks.append(_writer(sessions[-1], base, writes, stop))
        await asyncio.gather(*tasks)
        return reads, writes, time.monotonic() - start
    finally:
        for session in sessions:
            await session.close()


def measure(cluster: PracticeCluster, clients: int = 20, seconds: int = 10) -> list[Figure]:
    cluster.run("kubectl", "create", "namespace", NAMESPACE)
    for i in range(OBJECTS):
        cluster.run("kubectl", "create", "configmap", f"cm-{i}", "-n", NAMESPACE, "--from-literal=turn=none")
    before = request_totals(cluster)
    reads, writes, elapsed = asyncio.run(_run(cluster, clients, seconds))
    served = delta(before, request_totals(cluster))
    server_reads = sum(n for (verb, _, _), n in served.items() if verb in ("GET", "LIST", "WATCH"))
    fan_out = reads["watch events"] / max(writes["writes"], 1)
    note = (
        f"{clients} clients × (get/list loop + 1 watch) for {elapsed:.1f} s; {reads['ok']} reads answered "
        f"(server counted {server_reads}), 5xx {reads['5xx']}, 4xx {reads['4xx']}, connection errors "
        f"{reads['connection errors']}; {writes['writes']} writes fanned out as {reads['watch events']} watch "
        f"events ({fan_out:.1f} per write, {clients} expected), write errors {writes['write errors']}"
    )
    return [Figure("practice_requests_per_s", reads["ok"] / elapsed, "req/s", "—", note)]
