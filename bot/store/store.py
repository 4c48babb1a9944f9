"""The storage facade: one database (SQLite file or Postgres), its repositories, migrations on open."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType

from bot.store.appeals import AppealRepo
from bot.store.audit import AuditRepo
from bot.store.cases import CaseRepo
from bot.store.claims import DEFAULT_BUDGET_PER_MINUTE, SharedQueue
from bot.store.db import Clock, Database
from bot.store.dialect import Db
from bot.store.inbox import InboxRepo
from bot.store.migrate import apply_migrations, current_version
from bot.store.outbox import OutboxRepo
from bot.store.pg import POOL_SIZE, PgDatabase, is_postgres_url
from bot.store.policies import PolicyRepo
from bot.store.retention import purge_expired_text
from bot.store.screens import ScreenRepo
from bot.store.shard_locks import LocalShardLocks, PgShardLocks
from bot.store.shared_cache import SharedVerdictCache
from bot.store.spaces import CONFIG_CHANNEL, SpaceRepo
from bot.store.stats import StatsRepo
from bot.store.verdicts import VerdictRepo
from bot.store.workers import STALE_S, Worker

MEMORY = ":memory:"


class Store:
    """Everything the bot must remember across restarts.

    Open it with ``await Store.open(path)`` (or ``async with await Store.open(path) as store``).
    Writes that belong together go in ``async with store.transaction():``; inside it the same task
    may call any repository method (nested transactions become savepoints). On SQLite other tasks
    wait until the transaction ends, so do not await *another* task that uses the store (``gather``,
    ``create_task``) from inside a transaction: it would wait for you forever. On Postgres each
    transaction holds a pooled connection of its own and other tasks run beside it.
    """

    def __init__(self, db: Db) -> None:
        self.db = db  # the shared connection; repositories are the way to use it
        self.spaces = SpaceRepo(db)
        self.policies = PolicyRepo(db)
        self.inbox = InboxRepo(db)
        self.verdicts = VerdictRepo(db)
        self.cases = CaseRepo(db)
        self.appeals = AppealRepo(db)
        self.audit = AuditRepo(db)
        self.outbox = OutboxRepo(db)
        self.stats = StatsRepo(db)
        self.screens = ScreenRepo(db)

    @classmethod
    async def open(cls, path: str | Path, clock: Clock = time.time, *, pool_size: int = POOL_SIZE) -> Store:
        """Connect and apply pending migrations: ``postgresql://…`` opens Postgres, anything else is a
        SQLite file (created with its folder if needed)."""
        target = str(path)
        if is_postgres_url(target):
            return await cls._open(await PgDatabase.connect(target, clock, pool_size))
        if target != MEMORY:
            try:
                await asyncio.to_thread(Path(target).parent.mkdir, parents=True, exist_ok=True)
            except OSError as exc:
                # The same fault SQLite reports for an unusable path, so callers handle one kind.
                raise sqlite3.OperationalError(f"unable to open database file ({exc.strerror})") from exc
        return await cls._open(await Database.connect(target, clock))

    @classmethod
    async def _open(cls, db: Db) -> Store:
        try:
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    @property
    def shared(self) -> bool:
        """Whether several processes may share this store (Postgres) and its queue."""
        return isinstance(self.db, PgDatabase)

    def shared_queue(self, default_budget: int = DEFAULT_BUDGET_PER_MINUTE) -> SharedQueue:
        """Claims and fenced leases over the inbox and outbox (Postgres only)."""
        if not isinstance(self.db, PgDatabase):
            raise RuntimeError("the shared queue needs Postgres (DATABASE_URL)")
        return SharedQueue(self.db, default_budget)

    def shared_verdicts(self) -> SharedVerdictCache | None:
        """The verdict cache shared across processes (Postgres), or None (SQLite: one process)."""
        return SharedVerdictCache(self.db) if isinstance(self.db, PgDatabase) else None

    async def announce_change(self, space_id: str) -> None:
        """Tell the other processes on this store that a space's settings or policies changed."""
        await self.db.notify(CONFIG_CHANNEL, space_id)

    async def register_worker(self, stale_s: float = STALE_S) -> Worker:
        """Register this process as a lease owner: its lock, heartbeat and wake-ups (Postgres only)."""
        if not isinstance(self.db, PgDatabase):
            raise RuntimeError("workers need Postgres (DATABASE_URL)")
        return await Worker.register(self.db, stale_s=stale_s)

    def shard_locks(self) -> LocalShardLocks | PgShardLocks:
        """Discord shard locks: shared by every process on Postgres, all held by this one on SQLite."""
        if isinstance(self.db, PgDatabase):
            return PgShardLocks(self.db.dsn)
        return LocalShardLocks()

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); nestable, one task at a time."""
        return self.db.transaction()

    def now(self) -> float:
        """The store's clock (injectable for tests)."""
        return self.db.now()

    async def schema_version(self) -> int:
        """The number of the newest migration applied."""
        return await current_version(self.db)

    async def purge_expired_text(self) -> int:
        """Blank message text, context, excerpts and reasoning older than each space's retention."""
        return await purge_expired_text(self.db)
