"""The database: opens (creating it if new), is writable, and is at the newest schema."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bot.config import Settings
from bot.core.redact import redact
from bot.ops.doctor.result import Check, fail, ok
from bot.store import Space, SpacePolicy, Store
from bot.store.metrics import probe_write
from bot.store.migrate import packaged_migrations


@dataclass(frozen=True, slots=True)
class StoredSetup:
    """What the spaces have set up: mod channels for the platform checks, enabled policies for num_ctx."""

    spaces: list[Space] = field(default_factory=list)
    enabled: list[SpacePolicy] = field(default_factory=list)


async def check_database(settings: Settings) -> tuple[Check, StoredSetup]:
    """The check, and what the spaces have set up so far."""
    target = settings.database
    if isinstance(target, Path):
        path = str(target)
        fix = f"make {target.parent.resolve()} writable by the bot's user, or set DATABASE_PATH"
    else:  # DATABASE_URL: named without its password
        path = redact(target)  # the userinfo pattern masks the password, the host stays readable
        fix = "check DATABASE_URL (host, port, user, password, database) and that Postgres is running"
    faults = (OSError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)
    try:
        store = await Store.open(target)
    except faults as exc:
        return fail("database", f"cannot open {path}: {redact(str(exc), settings.secret_values())}", fix), (
            StoredSetup()
        )
    try:
        try:
            await probe_write(store.db)
        except faults as exc:
            return fail("database", f"{path} is not writable: {exc}", fix), StoredSetup()
        version = await store.schema_version()
        newest = max((m.version for m in packaged_migrations(store.db.dialect)), default=0)
        if version != newest:
            return fail(
                "database",
                f"{path} is at schema {version}, this modbot expects {newest}",
                "run the modbot version that wrote this database, or restore a backup",
            ), StoredSetup()
        spaces = await store.spaces.list()
        enabled = [p for p in await store.policies.all_current() if p.mode != "off"]
    finally:
        await store.close()
    return ok("database", f"{path} writable, schema {version}, {len(spaces)} spaces"), StoredSetup(
        spaces, enabled
    )
