"""Processes sharing one Postgres queue: who is alive, and taking back the leases of who is not.

Each process registers a row in ``workers`` and, on a connection of its own (its *session*), holds a
session advisory lock on the row's ``lock_key`` and heartbeats. The session also LISTENs for new
jobs, so one connection per process does both. A process is dead when its lock is free (it exited,
was killed, or lost its connection: Postgres drops a session's locks with it) or hung when its
heartbeat is older than ``stale_s`` (SIGSTOP, a wedged loop). Any live process's ``reap()`` puts
the leases of dead and hung processes back to pending and removes their rows; their lease tokens
no longer match, so a hung process that comes back cannot finish those jobs (see ``claims``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg

from bot.core.aio import Supervisor
from bot.store.inbox import JOBS_CHANNEL
from bot.store.pg import CONNECT_TIMEOUT_S, PgDatabase
from bot.store.spaces import CONFIG_CHANNEL

log = logging.getLogger(__name__)

LOCK_CLASS = 4241  # first key of the two-int advisory locks that mark live workers
DUTY_LOCK_CLASS = 4243  # first key of the locks of duties one process does at a time
SCREEN_TRAINER = 1  # duty: learn decisions and retrain the screens (others load what it stores)
HEARTBEAT_S = 1.0
STALE_S = 5.0

_DEAD = f"""
SELECT w.id FROM workers w
WHERE w.id <> $1 AND (
    w.heartbeat_at < $2
    OR NOT EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {LOCK_CLASS}
          AND l.objid = w.lock_key::oid AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    )
)"""  # noqa: S608 - constants only

# Leases held by no registered worker go back: their owner was reaped (or never registered).
_ORPHAN_JOBS = (
    "UPDATE inbox SET status = 'pending', lease_owner = NULL, lease_token = NULL, updated_at = $1 "
    "WHERE status = 'leased' AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = inbox.lease_owner)"
)
_ORPHAN_OUTBOX = (
    "UPDATE outbox SET lease_owner = NULL, lease_token = NULL WHERE status = 'pending' "
    "AND lease_owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = outbox.lease_owner)"
)


class Worker:
    """This process's registration: its id (the lease owner), its lock, its heartbeat, its wake-ups."""

    def __init__(self, db: PgDatabase, session: Any, worker_id: str, lock_key: int, stale_s: float) -> None:
        self.db = db
        self.id = worker_id
        self.lock_key = lock_key
        self.stale_s = stale_s
        self._session = session
        self._wakeups = 0
        self._woken = asyncio.Event()
        self._supervisor = Supervisor(log)
        self._config_listeners: list[Callable[[str], None]] = []
        self._duties: set[int] = set()
        self._session_lock = asyncio.Lock()  # one statement at a time on the session

    @classmethod
    async def register(cls, db: PgDatabase, *, stale_s: float = STALE_S) -> Worker:
        """Open this process's session, take its lock, add its row and listen for new jobs."""
        session = await asyncpg.connect(db.dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            # The lock before the row: a reaper never sees the row without the lock.
            key = int(await session.fetchval("SELECT nextval(pg_get_serial_sequence('workers', 'lock_key'))"))
            await session.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, key)
            worker = cls(db, session, uuid.uuid4().hex, key, stale_s)
            await worker._insert()
            await session.add_listener(JOBS_CHANNEL, worker._on_notify)
            await session.add_listener(CONFIG_CHANNEL, worker._on_config)
        except BaseException:
            await session.close(timeout=CONNECT_TIMEOUT_S)
            raise
        return worker

    async def _insert(self) -> None:
        now = self.db.now()
        await self._session.execute(
            "INSERT INTO workers (id, lock_key, host, pid, started_at, heartbeat_at) "
            "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET heartbeat_at = $5",
            self.id, self.lock_key, socket.gethostname(), os.getpid(), now,
        )  # fmt: skip

    def start(self, heartbeat_s: float = HEARTBEAT_S) -> None:
        """Heartbeat and reap in the background (supervised: a failed round is logged and retried)."""

        async def loop() -> None:
            while True:
                await self.beat()
                await self.reap()
                await asyncio.sleep(heartbeat_s)

        self._supervisor.spawn("worker-heartbeat", loop, restart=True)

    async def beat(self) -> None:
        """Say this process is alive. If it had been declared dead (it hung), register again: the
        leases it held were given back, so it starts with none. A lost session is opened again."""
        async with self._session_lock:
            if self._session.is_closed():
                await self._reconnect()
            status = await self._session.execute(
                "UPDATE workers SET heartbeat_at = $1 WHERE id = $2", self.db.now(), self.id
            )
        if status.endswith(" 0"):
            log.warning("worker %s was declared dead (hung?); its leases were given back", self.id)
            await self._insert()

    async def _reconnect(self) -> None:
        # Postgres dropped the old session's lock with it: reapers may already have taken its leases.
        log.warning("worker %s lost its database session; opening a new one", self.id)
        session = await asyncpg.connect(self.db.dsn, timeout=CONNECT_TIMEOUT_S)
        try:
            await session.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, self.lock_key)
            await session.add_listener(JOBS_CHANNEL, self._on_notify)
            await session.add_listener(CONFIG_CHANNEL, self._on_config)
        except BaseException:
            await session.close(timeout=CONNECT_TIMEOUT_S)
            raise
        self._session = session
        self._duties.clear()  # their locks went with the old session; another process may hold them
        await self._insert()
        self._wake()  # work may have been announced while no one listened
        for listener in self._config_listeners:  # and settings changed: forget every space's
            listener("")

    async def reap(self) -> int:
        """Give back the leases of dead or hung processes; how many jobs went back to pending."""
        now = self.db.now()
        async with self.db.connection() as conn, conn.transaction():
            dead = [row["id"] for row in await conn.fetch(_DEAD, self.id, now - self.stale_s)]
            if dead:
                await conn.execute("DELETE FROM workers WHERE id = ANY($1::text[])", dead)
                log.warning("took back the leases of %d dead or hung worker(s)", len(dead))
            status = await conn.execute(_ORPHAN_JOBS, now)
            await conn.execute(_ORPHAN_OUTBOX)
        returned = int(status.rsplit(" ", 1)[-1])
        if returned:
            self._wake()  # the jobs given back are work for this process
        return returned

    def _on_notify(self, *_args: object) -> None:
        self._wake()

    async def try_duty(self, duty: int) -> bool:
        """Whether this process does ``duty`` (taking it if no process does). The lock lives with
        this process's session: when the process dies, another one takes the duty over."""
        async with self._session_lock:
            if duty in self._duties and not self._session.is_closed():
                return True
            if self._session.is_closed():
                return False  # the heartbeat opens a new session; try again after it
            if await self._session.fetchval("SELECT pg_try_advisory_lock($1, $2)", DUTY_LOCK_CLASS, duty):
                self._duties.add(duty)
                return True
            return False

    def on_config_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(space_id)`` when any process changed a space's settings or policies
        ("" when this process may have missed some: forget them all)."""
        self._config_listeners.append(listener)

    def _on_config(self, _conn: object, _pid: object, _channel: object, payload: object) -> None:
        for listener in self._config_listeners:
            try:
                listener(str(payload))
            except Exception:
                log.exception("a settings-change listener failed")

    def _wake(self) -> None:
        self._wakeups += 1
        self._woken.set()

    @property
    def wakeups(self) -> int:
        """How many times new work was announced; pass it to ``wait_for_work`` to miss none."""
        return self._wakeups

    async def wait_for_work(self, seen: int, timeout_s: float) -> bool:
        """Wait until work is announced after ``seen`` (NOTIFY), or ``timeout_s`` (the polling
        fallback); True when woken by an announcement."""
        while self._wakeups == seen:
            self._woken.clear()
            try:
                async with asyncio.timeout(timeout_s):
                    await self._woken.wait()
            except TimeoutError:
                return False
        return True

    async def close(self) -> None:
        """Stop heartbeating, remove the row and release the lock (leases go back via reapers)."""
        await self._supervisor.stop()
        if self._session.is_closed():  # crashed: the reapers clean up
            return
        try:
            async with self._session.transaction():
                await self._session.execute("DELETE FROM workers WHERE id = $1", self.id)
                await self._session.execute(_ORPHAN_JOBS, self.db.now())
                await self._session.execute(_ORPHAN_OUTBOX)
        finally:
            await self._session.close(timeout=CONNECT_TIMEOUT_S)

    async def hang(self) -> None:
        """Stop heartbeating but keep the session and lock, as a stopped process would (bench)."""
        await self._supervisor.stop()

    async def crash(self) -> None:
        """Drop the session without cleaning up, as a killed process would (for tests and bench)."""
        await self._supervisor.stop()
        self._session.terminate()
