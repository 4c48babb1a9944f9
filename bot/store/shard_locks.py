"""Discord shard locks (the core's `ShardLocks`): who connects which shard, and whose turn it is to IDENTIFY.

Postgres: one connection of this process's own (its *session*) holds a session advisory lock per
shard it connects. Postgres drops a session's locks when it ends, so a killed process frees its
shards by itself and another process takes them. The same session holds a shared "present" lock, so
every process can count its peers, and a per-bucket IDENTIFY lock kept for 5 s after each IDENTIFY,
so processes together stay within Discord's identify rate limit.

SQLite (embedded, one process): this process holds every shard; turns are spaced in-process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from bot.core.aio import Supervisor
from bot.store.pg import CONNECT_TIMEOUT_S, STATEMENT_TIMEOUT_S

log = logging.getLogger(__name__)

SHARD_CLASS = 4243  # first key of the two-int advisory locks: (class, shard id)
IDENTIFY_CLASS = 4244  # (class, bucket): held while a bucket's IDENTIFY turn lasts
PRESENT_CLASS = 4245  # (class, 0), taken shared by every process that shares the shards
TURN_POLL_S = 0.2
TURN_WAIT_S = 10.0  # at most this long for IDENTIFY turns to run out on a clean stop

_HELD = (
    "SELECT objid::int AS shard FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND classid = $1 AND objsubid = 2"
)
_PEERS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 "
    "AND objid = 0 AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class _Turns:
    """One IDENTIFY at a time per bucket within this process, each turn kept `spacing_s`."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks = Supervisor(log)

    async def begin(self, bucket: int) -> asyncio.Lock:
        lock = self._locks.setdefault(bucket, asyncio.Lock())
        await lock.acquire()
        return lock

    def end_after(self, name: str, lock: asyncio.Lock, spacing_s: float, then: Any = None) -> None:
        async def hold() -> None:
            try:
                await asyncio.sleep(spacing_s)
                if then is not None:
                    await then()
            finally:
                lock.release()

        self._tasks.spawn(name, hold)

    async def finish(self, wait_s: float) -> None:
        """Let the turns under way run out (a crash cannot, and Discord then refuses with 4008)."""
        pending = self._tasks.running()
        if pending:
            await asyncio.wait(pending, timeout=wait_s)
        await self._tasks.stop()


class LocalShardLocks:
    """One process owns every shard (SQLite, or no shared store)."""

    def __init__(self) -> None:
        self._held: set[int] = set()
        self._turns = _Turns()

    async def try_take(self, shard_id: int) -> bool:
        self._held.add(shard_id)
        return True

    async def held(self) -> set[int]:
        return set(self._held)

    async def peers(self) -> int:
        return 1

    async def identify_turn(self, bucket: int, spacing_s: float) -> None:
        lock = await self._turns.begin(bucket)
        self._turns.end_after(f"identify-turn-{bucket}", lock, spacing_s)

    async def release_all(self) -> None:
        self._held.clear()
        await self._turns.finish(TURN_WAIT_S)


class PgShardLocks:
    """Shard locks on a Postgres session of this process's own, opened on first use."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn  # holds the password: never log it
        self._session: Any = None
        self._use = asyncio.Lock()  # one statement at a time on the session
        self._turns = _Turns()

    async def _conn(self) -> Any:
        if self._session is None or self._session.is_closed():
            if self._session is not None:
                log.warning("the shard-lock session was lost: its shards are free for other processes")
            session = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_S)
            await session.execute("SELECT pg_advisory_lock_shared($1, 0)", PRESENT_CLASS)
            self._session = session
        return self._session

    async def _value(self, sql: str, *args: object) -> Any:
        async with self._use:
            conn = await self._conn()
            return await conn.fetchval(sql, *args, timeout=STATEMENT_TIMEOUT_S)

    async def _on_live_session(self, sql: str, *args: object) -> None:
        """Run `sql` if the session still lives: a lost session's locks went with it, none to free."""
        async with self._use:
            if self._session is not None and not self._session.is_closed():
                await self._session.execute(sql, *args, timeout=STATEMENT_TIMEOUT_S)

    async def try_take(self, shard_id: int) -> bool:
        return bool(await self._value("SELECT pg_try_advisory_lock($1, $2)", SHARD_CLASS, shard_id))

    async def held(self) -> set[int]:
        # Ask Postgres, not a local set: a session that ended (or was ended) holds nothing.
        async with self._use:
            if self._session is None or self._session.is_closed():
                return set()
            try:
                rows = await self._session.fetch(_HELD, SHARD_CLASS, timeout=STATEMENT_TIMEOUT_S)
            except Exception:  # ended by the server, broken, or silent: no lock can be vouched for
                log.warning("the shard-lock session stopped answering; dropping it", exc_info=True)
                self._session.terminate()
                return set()
        return {int(row["shard"]) for row in rows}

    async def peers(self) -> int:
        return int(await self._value(_PEERS, PRESENT_CLASS))

    async def identify_turn(self, bucket: int, spacing_s: float) -> None:
        lock = await self._turns.begin(bucket)
        try:
            # Another process's turn: no event crosses processes, so poll (a turn lasts 5 s).
            while True:
                if await self._value("SELECT pg_try_advisory_lock($1, $2)", IDENTIFY_CLASS, bucket):
                    break
                await asyncio.sleep(TURN_POLL_S)
        except BaseException:
            lock.release()
            raise

        async def unlock() -> None:
            await self._on_live_session("SELECT pg_advisory_unlock($1, $2)", IDENTIFY_CLASS, bucket)

        self._turns.end_after(f"identify-turn-{bucket}", lock, spacing_s, unlock)

    async def release_all(self) -> None:
        # The shards first, so others take them now; the IDENTIFY turns when they run out, else
        # another process could IDENTIFY in the same 5 s and be refused.
        held = await self.held()
        for shard in held:
            await self._on_live_session("SELECT pg_advisory_unlock($1, $2)", SHARD_CLASS, shard)
        alive = self._session is not None and not self._session.is_closed()
        await self._turns.finish(TURN_WAIT_S if alive else 0.0)  # a lost session's turns are gone
        async with self._use:
            if self._session is not None and not self._session.is_closed():
                await self._session.close(timeout=CONNECT_TIMEOUT_S)  # every lock goes with it
            self._session = None
