"""Spaces (a Discord guild, a Slack workspace) and their moderation settings."""

from __future__ import annotations

from typing import Any

from bot.store.db import from_row
from bot.store.dialect import Db, Row
from bot.store.records import Space

# NOTIFY channel: a space's settings or policies changed (payload: its id). Other processes on the
# same Postgres drop what they cached of it; one SQLite process has nobody to tell.
CONFIG_CHANNEL = "modbot_config"

# The settings an admin may change, with the type each must have.
SETTINGS: dict[str, type] = {
    "name": str,
    "mod_channel_id": str,
    "mod_role_id": str,
    "admin_role_id": str,
    "notify_members": bool,
    "retention_days": int,
    "auto_actions": bool,
    "budget_per_minute": int,
}


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as column values; ValueError for an unknown key or a value of the wrong kind."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown space setting(s): {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    values: dict[str, Any] = {}
    for key, value in settings.items():
        kind = SETTINGS[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{key} must be an integer, got {value!r}")
        if kind is int and value < 0:
            raise ValueError(f"{key} must not be negative, got {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise ValueError(f"{key} must be a {kind.__name__}, got {value!r}")
        values[key] = int(value) if kind is bool else value
    return values


def _space(row: Row) -> Space:
    return from_row(
        Space, row, notify_members=bool(row["notify_members"]), auto_actions=bool(row["auto_actions"])
    )


class SpaceRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, space_id: str) -> Space | None:
        row = await self._db.fetchone("SELECT * FROM spaces WHERE id = ?", (space_id,))
        return _space(row) if row else None

    async def list(self) -> list[Space]:
        return [_space(row) for row in await self._db.fetchall("SELECT * FROM spaces ORDER BY id")]

    async def upsert(self, space_id: str, platform: str, name: str = "", **settings: Any) -> Space:
        """Create the space, or update it: the platform, the name when given, and the given settings."""
        values = validate_settings(settings)
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO spaces (id, platform, name, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, "
                "name = CASE WHEN excluded.name != '' THEN excluded.name ELSE spaces.name END",
                (space_id, platform, name, self._db.now()),
            )
            return await self._apply(space_id, values)

    async def update(self, space_id: str, **settings: Any) -> Space:
        """Change the given settings; KeyError when the space does not exist."""
        values = validate_settings(settings)
        async with self._db.transaction():
            return await self._apply(space_id, values)

    async def _apply(self, space_id: str, values: dict[str, Any]) -> Space:
        if values:
            assignments = ", ".join(f"{key} = ?" for key in values)  # keys come from SETTINGS only
            await self._db.execute(
                f"UPDATE spaces SET {assignments} WHERE id = ?",  # noqa: S608
                (*values.values(), space_id),
            )
        space = await self.get(space_id)
        if space is None:
            raise KeyError(f"no space {space_id!r}")
        return space
