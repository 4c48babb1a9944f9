"""Which policies each space enables, and every version of their text."""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.db import dumps, from_row, loads_strs
from bot.store.dialect import Db, Row
from bot.store.records import POLICY_MODES, PolicyMode, PolicyVersion, SpacePolicy


def _current(row: Row) -> SpacePolicy:
    return from_row(
        SpacePolicy,
        row,
        channels=loads_strs(row["channels"]),
        excluded_channels=loads_strs(row["excluded_channels"]),
    )


def _check_mode(mode: str) -> PolicyMode:
    for known in POLICY_MODES:
        if mode == known:
            return known
    raise ValueError(f"unknown policy mode {mode!r}; expected one of {', '.join(POLICY_MODES)}")


class PolicyRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, space_id: str, policy_id: str) -> SpacePolicy | None:
        row = await self._db.fetchone(
            "SELECT * FROM space_policies WHERE space_id = ? AND policy_id = ?", (space_id, policy_id)
        )
        return _current(row) if row else None

    async def enabled(self, space_id: str) -> list[SpacePolicy]:
        """The space's policies whose mode is live or shadow, by policy id."""
        rows = await self._db.fetchall(
            "SELECT * FROM space_policies WHERE space_id = ? AND mode != 'off' ORDER BY policy_id",
            (space_id,),
        )
        return [_current(row) for row in rows]

    async def all_for(self, space_id: str) -> list[SpacePolicy]:
        """One space's policies, switched off ones included, by policy id."""
        rows = await self._db.fetchall(
            "SELECT * FROM space_policies WHERE space_id = ? ORDER BY policy_id", (space_id,)
        )
        return [_current(row) for row in rows]

    async def all_current(self) -> list[SpacePolicy]:
        """Every space's current policy rows, including those switched off."""
        rows = await self._db.fetchall("SELECT * FROM space_policies ORDER BY space_id, policy_id")
        return [_current(row) for row in rows]

    async def history(self, space_id: str, policy_id: str) -> list[PolicyVersion]:
        """Every saved version, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM policy_versions WHERE space_id = ? AND policy_id = ? ORDER BY version DESC",
            (space_id, policy_id),
        )
        return [from_row(PolicyVersion, row) for row in rows]

    async def save_version(
        self,
        space_id: str,
        policy_id: str,
        yaml_text: str,
        content_hash: str,
        actor: str,
        note: str = "",
        mode: str | None = None,
    ) -> SpacePolicy:
        """Store the text as the next version and make it current.

        An existing policy keeps its mode and channels unless ``mode`` is given; a new one starts in
        shadow mode (classified and recorded, never acted on) unless ``mode`` is given.
        """
        checked = _check_mode(mode) if mode is not None else None
        now = self._db.now()
        async with self._db.transaction():
            row = await self._db.fetchone(
                "SELECT COALESCE(MAX(version), 0) FROM policy_versions WHERE space_id = ? AND policy_id = ?",
                (space_id, policy_id),
            )
            version = (int(row[0]) if row else 0) + 1
            await self._db.execute(
                "INSERT INTO policy_versions (space_id, policy_id, version, yaml_text, content_hash, "
                "created_by, created_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (space_id, policy_id, version, yaml_text, content_hash, actor, now, note),
            )
            await self._db.execute(
                "INSERT INTO space_policies (space_id, policy_id, version, yaml_text, content_hash, mode, "
                "channels, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?) "
                "ON CONFLICT (space_id, policy_id) DO UPDATE SET version = excluded.version, "
                "yaml_text = excluded.yaml_text, content_hash = excluded.content_hash, "
                "mode = COALESCE(?, space_policies.mode), "
                "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (
                    space_id,
                    policy_id,
                    version,
                    yaml_text,
                    content_hash,
                    checked or "shadow",
                    actor,
                    now,
                    checked,
                ),
            )
            return await self._require(space_id, policy_id)

    async def set_mode(self, space_id: str, policy_id: str, mode: str, actor: str) -> SpacePolicy:
        checked = _check_mode(mode)
        return await self._set(space_id, policy_id, "mode = ?", checked, actor)

    async def set_channels(
        self, space_id: str, policy_id: str, channels: Iterable[str], actor: str
    ) -> SpacePolicy:
        """Limit the policy to these channels; an empty list means every channel."""
        unique = sorted({str(c) for c in channels})
        return await self._set(space_id, policy_id, "channels = ?", dumps(unique), actor)

    async def set_scope(
        self, space_id: str, policy_id: str, include: Iterable[str], exclude: Iterable[str], actor: str
    ) -> SpacePolicy:
        """Look only at `include` (empty: every channel) and never at `exclude`."""
        async with self._db.transaction():
            included = dumps(sorted({str(c) for c in include}))
            await self._set(space_id, policy_id, "channels = ?", included, actor)
            excluded = dumps(sorted({str(c) for c in exclude}))
            return await self._set(space_id, policy_id, "excluded_channels = ?", excluded, actor)

    async def remove(self, space_id: str, policy_id: str, actor: str) -> SpacePolicy:
        """Switch the policy off; its versions stay, so it can come back."""
        return await self.set_mode(space_id, policy_id, "off", actor)

    async def rollback(self, space_id: str, policy_id: str, version: int, actor: str) -> SpacePolicy:
        """Make an old version's text current again, as a new version noted "rollback to vN"."""
        async with self._db.transaction():
            row = await self._db.fetchone(
                "SELECT yaml_text, content_hash FROM policy_versions "
                "WHERE space_id = ? AND policy_id = ? AND version = ?",
                (space_id, policy_id, version),
            )
            if row is None:
                raise KeyError(f"policy {policy_id!r} has no version {version} in space {space_id!r}")
            return await self.save_version(
                space_id, policy_id, row["yaml_text"], row["content_hash"], actor, f"rollback to v{version}"
            )

    async def _set(
        self, space_id: str, policy_id: str, assignment: str, value: str, actor: str
    ) -> SpacePolicy:
        async with self._db.transaction():
            changed = await self._db.execute(
                f"UPDATE space_policies SET {assignment}, updated_by = ?, updated_at = ? "  # noqa: S608
                "WHERE space_id = ? AND policy_id = ?",
                (value, actor, self._db.now(), space_id, policy_id),
            )
            if not changed:
                raise KeyError(f"no policy {policy_id!r} in space {space_id!r}")
            return await self._require(space_id, policy_id)

    async def _require(self, space_id: str, policy_id: str) -> SpacePolicy:
        policy = await self.get(space_id, policy_id)
        if policy is None:
            raise KeyError(f"no policy {policy_id!r} in space {space_id!r}")
        return policy
