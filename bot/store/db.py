"""The one shared aiosqlite connection, and the transaction discipline around it.

Every statement runs on one connection. A transaction must not interleave with statements of other
tasks, so an ``asyncio.Lock`` serialises them: a task inside ``transaction()`` owns the connection until
it leaves, and plain reads or single writes of other tasks wait for it. A task that already owns the
connection may nest ``transaction()`` (a SAVEPOINT) and call any repository method without deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from typing import Any, Literal, TypeVar, cast

import aiosqlite

from bot.store.dialect import Clock, Params, Row

__all__ = ["Clock", "Database", "Params", "Row", "dumps", "from_row", "loads_strs"]
T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000


class Database:
    """A connection, a clock, and the lock that keeps transactions whole."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    @classmethod
    async def connect(cls, path: str, clock: Clock) -> Database:
        # isolation_level=None: no implicit BEGINs; transactions are only the ones we open.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode=WAL")  # answers "memory" for ":memory:"
            await conn.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await conn.close()
            raise
        return cls(conn, clock)

    async def close(self) -> None:
        async with self._lock:
            await self.conn.close()

    def now(self) -> float:
        return float(self.clock())

    def _owns(self) -> bool:
        task = asyncio.current_task()
        return task is not None and task is self._owner

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK when the body raises. Nestable within one task."""
        if self._owns():
            async with self._savepoint():
                yield
            return
        async with self._lock:
            self._owner = asyncio.current_task()
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield
                await self.conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise
            finally:
                self._owner = None

    async def _rollback(self) -> None:
        # Statements queue on aiosqlite's thread in order, so this runs after anything already sent,
        # even when the task was cancelled while awaiting BEGIN or a statement.
        with contextlib.suppress(sqlite3.OperationalError):  # BEGIN failed: nothing to roll back
            await self.conn.execute("ROLLBACK")

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"sp_{self._depth}"
        try:
            await self.conn.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                await self.conn.execute(f"ROLLBACK TO {name}")
                await self.conn.execute(f"RELEASE {name}")
                raise
            await self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    @asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """Hold the connection for one statement, unless this task already holds it.

        A single statement outside a transaction commits on its own (autocommit), so it needs the lock
        only to stay out of another task's open transaction.
        """
        if self._owns():
            yield
        else:
            async with self._lock:
                yield

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        # One round trip to aiosqlite's thread instead of three (execute, fetchone, close):
        # it sits between two model calls of a worker.
        async with self._exclusive():
            rows = list(await self.conn.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._exclusive():
            return list(await self.conn.execute_fetchall(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement; the number of rows it changed."""
        async with self._exclusive(), self.conn.execute(sql, params) as cursor:
            return int(cursor.rowcount)

    async def insert(self, sql: str, params: Params = ()) -> int | None:
        """Run one INSERT; the new row id, or None when nothing was inserted (OR IGNORE)."""
        async with self._exclusive(), self.conn.execute(sql, params) as cursor:
            return int(cursor.lastrowid) if cursor.rowcount == 1 and cursor.lastrowid else None

    async def execute_script(self, script: str) -> None:
        """Run a migration script statement by statement (on this connection, in the caller's
        transaction)."""
        from bot.store.migrate import split_statements  # migrate imports this module

        for statement in split_statements(script):
            await self.execute(statement)

    async def notify(self, channel: str, payload: str = "") -> None:
        """Nothing to wake in another process: one process owns a SQLite file's queue."""


def dumps(value: Any) -> str:
    """JSON for a column: compact, UTF-8 kept readable, keys in a stable order."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def loads_strs(text: str | None) -> tuple[str, ...]:
    """A JSON list column of strings, as a tuple."""
    if not text:
        return ()
    return tuple(str(item) for item in json.loads(text))


def from_row(cls: type[T], row: Row, **converted: Any) -> T:
    """Build record ``cls`` from the row's columns of the same names; ``converted`` overrides some."""
    names = {f.name for f in fields(cast(Any, cls))}
    values = {key: row[key] for key in row.keys() if key in names}  # noqa: SIM118
    values.update(converted)
    return cls(**values)
