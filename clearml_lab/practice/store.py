"""Objects in SQLite: one row per object, one global resourceVersion counter, a change log that watches read.

Every write is one transaction (a kill -9 leaves the previous state, never half an object). Writers wake the
watchers through an asyncio condition; nobody polls. The event loop is the only writer, so a read followed by a
write with no ``await`` in between is atomic.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

KEEP_CHANGES = 50_000  # change-log rows kept for watches that resume; older resourceVersions get 410 Gone

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL, rv INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (resource, namespace, name));
CREATE TABLE IF NOT EXISTS changes (
  rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
  type TEXT NOT NULL, data TEXT NOT NULL, old TEXT);
CREATE INDEX IF NOT EXISTS changes_by_resource ON changes (resource, rv);
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), rv INTEGER NOT NULL);
INSERT OR IGNORE INTO counter VALUES (1, 0);
CREATE TABLE IF NOT EXISTS logs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, namespace TEXT NOT NULL, pod TEXT NOT NULL, container TEXT NOT NULL,
  line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_by_pod ON logs (namespace, pod, container, seq);
"""


@dataclass(frozen=True)
class Change:
    rv: int
    resource: str
    namespace: str
    name: str
    type: str  # ADDED | MODIFIED | DELETED
    object: dict
    old: dict | None


class Store:
    def __init__(self, path: Path):
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._waiters: set[asyncio.Future] = set()  # sleepers, woken by every write
        self._writes = 0

    def close(self) -> None:
        self.db.close()

    # reads
    def current_rv(self) -> int:
        return self.db.execute("SELECT rv FROM counter").fetchone()[0]

    def oldest_change(self) -> int:
        row = self.db.execute("SELECT min(rv) FROM changes").fetchone()
        return row[0] or self.current_rv() + 1

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        row = self.db.execute(
            "SELECT data FROM objects WHERE resource=? AND namespace=? AND name=?", (resource, namespace or "", name)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        if namespace:
            rows = self.db.execute(
                "SELECT data FROM objects WHERE resource=? AND namespace=? ORDER BY name", (resource, namespace)
            )
        else:
            rows = self.db.execute("SELECT data FROM objects WHERE resource=? ORDER BY namespace, name", (resource,))
        return [json.loads(r[0]) for r in rows]

    def count_in_namespace(self, namespace: str) -> int:
        return self.db.execute("SELECT count(*) FROM objects WHERE namespace=?", (namespace,)).fetchone()[0]

    def changes_since(self, rv: int, resources: tuple[str, ...], limit: int = 500) -> list[Change]:
        marks = ",".join("?" * len(resources))
        rows = self.db.execute(
            f"SELECT rv, resource, namespace, name, type, data, old FROM changes WHERE rv > ? AND resource IN ({marks})"
            " ORDER BY rv LIMIT ?",
            (rv, *resources, limit),
        )
        return [
            Change(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), json.loads(r[6]) if r[6] else None) for r in rows
        ]

    # writes
    def commit(self, ops: list[tuple[str, str, dict]]) -> list[dict]:
        """Apply ``(op, resource, obj)`` with op ``put`` or ``delete`` in one transaction; each object gets the next
        resourceVersion. Returns the stored objects (deleted ones as they were, with the deletion's rv)."""
        out: list[dict] = []
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            rv = self.current_rv()
            for op, resource, obj in ops:
                rv += 1
                meta = obj["metadata"]
                namespace, name = meta.get("namespace", "") or "", meta["name"]
                old_row = db.execute(
                    "SELECT data FROM objects WHERE resource=? AND namespace=? AND name=?", (resource, namespace, name)
                ).fetchone()
                obj = {**obj, "metadata": {**meta, "resourceVersion": str(rv)}}
                text = json.dumps(obj, separators=(",", ":"))
                if op == "put":
                    db.execute(
                        "INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)", (resource, namespace, name, rv, text)
                    )
                    kind = "MODIFIED" if old_row else "ADDED"
                else:
                    db.execute(
                        "DELETE FROM objects WHERE resource=? AND namespace=? AND name=?", (resource, namespace, name)
                    )
                    kind = "DELETED"
                db.execute(
                    "INSERT INTO changes VALUES (?,?,?,?,?,?,?)",
                    (rv, resource, namespace, name, kind, text, old_row[0] if old_row else None),
                )
                out.append(obj)
            db.execute("UPDATE counter SET rv=?", (rv,))
            self._writes += 1
            if self._writes % 1000 == 0:
                db.execute("DELETE FROM changes WHERE rv <= ?", (rv - KEEP_CHANGES,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._wake()
        return out

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def wait(self, predicate, timeout: float | None) -> bool:
        """Sleep until ``predicate()`` holds after some write (objects or logs), or the timeout ends. Writers wake
        every sleeper; nobody polls."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not predicate():
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            future = loop.create_future()
            self._waiters.add(future)
            try:
                await asyncio.wait_for(future, left)
            except TimeoutError:
                return predicate()
            finally:
                self._waiters.discard(future)
        return True

    async def wait_for_change(self, after_rv: int, timeout: float | None) -> bool:
        """Sleep until the resourceVersion counter passes ``after_rv``, or the timeout ends."""
        return await self.wait(lambda: self.current_rv() > after_rv, timeout)

    # container logs
    def append_log(self, namespace: str, pod: str, container: str, lines: list[str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO logs (namespace, pod, container, line) VALUES (?,?,?,?)",
                [(namespace, pod, container, line) for line in lines],
            )
        self._wake()

    def read_log(self, namespace: str, pod: str, container: str, after_seq: int = 0) -> list[tuple[int, str]]:
        return self.db.execute(
            "SELECT seq, line FROM logs WHERE namespace=? AND pod=? AND container=? AND seq > ? ORDER BY seq",
            (namespace, pod, container, after_seq),
        ).fetchall()

    def delete_logs(self, namespace: str, pod: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM logs WHERE namespace=? AND pod=?", (namespace, pod))

    def dependents(self, uid: str) -> list[tuple[str, dict]]:
        """Objects with an ownerReference to ``uid`` (the garbage collector's question)."""
        rows = self.db.execute("SELECT resource, data FROM objects WHERE data LIKE ?", (f'%"uid":"{uid}"%',))
        out = []
        for resource, text in rows:
            obj = json.loads(text)
            if any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or ()):
                out.append((resource, obj))
        return out
