"""The Postgres backend: the same ``Db`` methods as the SQLite one, over an asyncpg pool.

Several processes share one Postgres, so there is no process-wide lock here: a task's
``transaction()`` takes one pooled connection and keeps it (statements of that task inside it use that
connection; a nested ``transaction()`` is a savepoint); a statement outside any transaction borrows a
connection for itself and commits on its own. Which connection a task holds is kept per task, so a
task started inside a transaction does not inherit it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg

from bot.store.dialect import Clock, Params, Row, to_postgres

CONNECT_TIMEOUT_S = 10.0
STATEMENT_TIMEOUT_S = 30.0
POOL_SIZE = 16  # DATABASE_POOL_SIZE


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def _rowcount(status: str) -> int:
    """Rows an ``UPDATE 3`` / ``DELETE 0`` / ``INSERT 0 1`` status names."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgDatabase:
    """An asyncpg pool, a clock, and which connection each task's transaction holds."""

    dialect: Literal["postgres"] = "postgres"

    def __init__(self, pool: asyncpg.Pool, clock: Clock, dsn: str) -> None:
        self.pool = pool
        self.clock = clock
        self.dsn = dsn  # holds the password: never log it (bot.core.redact scrubs URLs)
        self._held: contextvars.ContextVar[tuple[asyncio.Task[Any] | None, Any] | None] = (
            contextvars.ContextVar(f"pg_held_{id(self)}", default=None)
        )
        self._sql: dict[tuple[str, bool], str] = {}

    @classmethod
    async def connect(cls, dsn: str, clock: Clock, pool_size: int = POOL_SIZE) -> PgDatabase:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=pool_size,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=STATEMENT_TIMEOUT_S,
        )
        return cls(pool, clock, dsn)

    async def close(self) -> None:
        await asyncio.wait_for(self.pool.close(), CONNECT_TIMEOUT_S)

    def now(self) -> float:
        return float(self.clock())

    def sql(self, text: str, *, returning_id: bool = False) -> str:
        key = (text, returning_id)
        found = self._sql.get(key)
        if found is None:
            found = self._sql[key] = to_postgres(text, returning_id=returning_id)
        return found

    def _conn(self) -> Any:
        held = self._held.get()
        if held is not None and held[0] is asyncio.current_task():
            return held[1]
        return None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """The task's transaction's connection, or one borrowed from the pool for this block."""
        conn = self._conn()
        if conn is not None:
            yield conn
            return
        async with self.pool.acquire(timeout=CONNECT_TIMEOUT_S) as borrowed:
            yield borrowed

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN ... COMMIT, or ROLLBACK when the body raises; nested: a savepoint."""
        conn = self._conn()
        if conn is not None:
            async with conn.transaction():  # asyncpg makes a nested transaction a savepoint
                yield
            return
        async with self.pool.acquire(timeout=CONNECT_TIMEOUT_S) as conn:
            token = self._held.set((asyncio.current_task(), conn))
            try:
                async with conn.transaction():
                    yield
            finally:
                self._held.reset(token)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self.connection() as conn:
            row: Row | None = await conn.fetchrow(self.sql(sql), *params)
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> Sequence[Row]:
        async with self.connection() as conn:
            rows: Sequence[Row] = await conn.fetch(self.sql(sql), *params)
            return rows

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self.connection() as conn:
            return _rowcount(await conn.execute(self.sql(sql), *params))

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        async with self.connection() as conn:
            value = await conn.fetchval(self.sql(sql, returning_id=True), *params)
            return None if value is None else int(value)

    async def execute_script(self, script: str) -> None:
        # Without parameters Postgres runs a whole script in one round trip.
        async with self.connection() as conn:
            await conn.execute(script)

    async def notify(self, channel: str, payload: str = "") -> None:
        """Wake listeners on ``channel`` (at commit, when inside a transaction)."""
        async with self.connection() as conn:
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
