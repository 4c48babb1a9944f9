"""The database: opens (creating it if new), is writable, and is at the newest schema."""

from __future__ import annotations

import sqlite3

from bot.config import Settings
from bot.ops.doctor.result import Check, fail, ok
from bot.store import Space, Store
from bot.store.metrics import probe_write
from bot.store.migrate import packaged_migrations


async def check_database(settings: Settings) -> tuple[Check, list[Space]]:
    """The check, and the spaces set up so far (the platform checks look at their mod channels)."""
    path = settings.database_path
    fix = f"make {path.parent.resolve()} writable by the bot's user, or set DATABASE_PATH"
    try:
        store = await Store.open(path)
    except (OSError, sqlite3.Error) as exc:
        return fail("database", f"cannot open {path}: {exc}", fix), []
    try:
        try:
            await probe_write(store.db)
        except sqlite3.Error as exc:
            return fail("database", f"{path} is not writable: {exc}", fix), []
        version = await store.schema_version()
        newest = max((m.version for m in packaged_migrations()), default=0)
        if version != newest:
            return fail(
                "database",
                f"{path} is at schema {version}, this modbot expects {newest}",
                "run the modbot version that wrote this database, or restore a backup",
            ), []
        spaces = await store.spaces.list()
    finally:
        await store.close()
    return ok("database", f"{path} writable, schema {version}, {len(spaces)} spaces"), spaces
