"""The audit trail: who tried to do what, and whether they were allowed."""

from __future__ import annotations

import builtins
from typing import Any

from bot.store.db import dumps, from_row
from bot.store.dialect import Db
from bot.store.records import AuditEntry


class AuditRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def record(
        self,
        space_id: str,
        actor_id: str,
        actor_role: str,
        action: str,
        target: str,
        allowed: bool,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry (refusals too: ``allowed=False``); its id."""
        row_id = await self._db.insert(
            "INSERT INTO audit (space_id, actor_id, actor_role, action, target, allowed, detail_json, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                space_id,
                actor_id,
                actor_role,
                action,
                target,
                int(allowed),
                dumps(detail or {}),
                self._db.now(),
            ),
        )
        if row_id is None:  # a plain INSERT inserts or raises
            raise RuntimeError("audit entry was not stored")
        return row_id

    async def list(self, space_id: str, limit: int = 100) -> builtins.list[AuditEntry]:
        """The space's entries, newest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM audit WHERE space_id = ? ORDER BY id DESC LIMIT ?", (space_id, limit)
        )
        return [from_row(AuditEntry, row, allowed=bool(row["allowed"])) for row in rows]
