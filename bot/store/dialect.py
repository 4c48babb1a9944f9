"""What the repositories need from a database, and the few ways Postgres SQL differs from SQLite's.

The repositories write one SQL text (SQLite's spelling: ``?`` placeholders, ``INSERT OR IGNORE``) and
run it through a ``Db``. The SQLite backend runs it as it is; the Postgres backend rewrites it once
with ``to_postgres`` (``$n`` placeholders, ``ON CONFLICT DO NOTHING``) and adds ``RETURNING id`` to
inserts. Everything else the repositories use is spelled the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

Clock = Callable[[], float]
Params = Sequence[Any]
Dialect = Literal["sqlite", "postgres"]


class Row(Protocol):
    """A result row: by column name or position, with its column names."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def keys(self) -> Any: ...


class Db(Protocol):
    """One store's connection(s): SQL in, rows out, transactions that nest as savepoints."""

    @property
    def dialect(self) -> Dialect: ...

    def now(self) -> float: ...

    def transaction(self) -> AbstractAsyncContextManager[None]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> Sequence[Row]: ...

    async def execute(self, sql: str, params: Params = ()) -> int: ...

    async def insert(self, sql: str, params: Params = ()) -> int | None: ...

    async def execute_script(self, script: str) -> None: ...

    async def notify(self, channel: str, payload: str = "") -> None: ...

    async def close(self) -> None: ...


# A quoted string or identifier (kept as it is), or one placeholder.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")
_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)


def to_postgres(sql: str, *, returning_id: bool = False) -> str:
    """SQLite's spelling of one statement in Postgres's."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match[0] != "?":
            return match[0]
        count += 1
        return f"${count}"

    text = _TOKENS.sub(number, sql)
    if _OR_IGNORE.match(text):
        text = _OR_IGNORE.sub("INSERT INTO", text, count=1).rstrip().removesuffix(";")
        if " ON CONFLICT " not in text.upper():
            text += " ON CONFLICT DO NOTHING"
    if returning_id:
        text = text.rstrip().removesuffix(";") + " RETURNING id"
    return text
