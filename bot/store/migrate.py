"""Numbered schema migrations: ``migrations/<dialect>/NNN_name.sql``, applied in order, each once.

SQLite and Postgres each have their own folder with the same numbers (a test checks that both end up
with the same tables and columns).

Each migration runs in its own BEGIN IMMEDIATE transaction together with its ``schema_version`` row, so
a failing migration leaves the database at the previous version, and two processes opening the same
file at once cannot both apply it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from bot.store.dialect import Db, Dialect

_NAME = re.compile(r"^(\d{3,})_([a-z0-9_]+)\.sql$")

_SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at DOUBLE PRECISION NOT NULL
)"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def packaged_migrations(dialect: Dialect = "sqlite") -> list[Migration]:
    """The migrations shipped in ``bot/store/migrations/<dialect>``, ordered by number."""
    found: list[Migration] = []
    for entry in resources.files("bot.store").joinpath("migrations", dialect).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers in bot/store/migrations: {versions}")
    return found


def split_statements(script: str) -> list[str]:
    """Split a script into single statements; ``;`` inside strings, comments and triggers is kept."""
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer)
            buffer = ""
    rest = _strip_comments(buffer.removesuffix(";"))
    if rest:
        raise ValueError(f"incomplete SQL statement at the end of a migration: {rest[:80]!r}")
    return [s for s in statements if _strip_comments(s).strip(" \n\t;")]


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines()).strip()


async def current_version(db: Db) -> int:
    await db.execute(_SCHEMA_VERSION_DDL)
    row = await db.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


async def apply_migrations(db: Db, migrations: Iterable[Migration] | None = None) -> list[int]:
    """Apply the migrations newer than the database's version; the versions applied now."""
    todo: Sequence[Migration] = packaged_migrations(db.dialect) if migrations is None else list(migrations)
    applied: list[int] = []
    if db.dialect == "postgres":
        # Processes starting at once on an empty database: one creates the version table, the
        # others wait (a concurrent CREATE TABLE IF NOT EXISTS can fail on Postgres).
        async with db.transaction():
            await db.execute("SELECT pg_advisory_xact_lock(4240, 0)")
            await db.execute(_SCHEMA_VERSION_DDL)
    for migration in sorted(todo, key=lambda m: m.version):
        if migration.version <= await current_version(db):
            continue
        async with db.transaction():
            if migration.version <= await current_version(db):  # another process got here first
                continue
            if db.dialect == "postgres":
                # Two processes starting at once: the second waits here, then sees the version.
                await db.execute("SELECT pg_advisory_xact_lock(4240, 0)")
                if migration.version <= await current_version(db):
                    continue
            await db.execute_script(migration.sql)
            await db.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, db.now()),
            )
        applied.append(migration.version)
    return applied
