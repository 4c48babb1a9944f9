"""Platform calls that must not be lost (post/update a flag card, delete, timeout, DM).

Written in the same transaction as the state change that calls for them, sent by one worker that
marks each done, retries it later, or fails it. Delivery is at least once.
"""

from __future__ import annotations

from typing import Any

from bot.store.db import dumps, from_row
from bot.store.dialect import Db, Row
from bot.store.records import OUTBOX_STATUSES, OutboxItem


def item_from_row(row: Row) -> OutboxItem:
    return from_row(OutboxItem, row)


class OutboxRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(
        self,
        space_id: str,
        kind: str,
        payload: dict[str, Any],
        case_id: int | None = None,
        not_before: float = 0.0,
    ) -> int:
        row_id = await self._db.insert(
            "INSERT INTO outbox (space_id, kind, case_id, payload_json, status, attempts, not_before, "
            "created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
            (space_id, kind, case_id, dumps(payload), not_before, self._db.now()),
        )
        if row_id is None:  # a plain INSERT inserts or raises
            raise RuntimeError("outbox item was not stored")
        return row_id

    async def get(self, item_id: int) -> OutboxItem | None:
        row = await self._db.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return item_from_row(row) if row else None

    async def due(self, now: float | None = None, limit: int = 50) -> list[OutboxItem]:
        """Pending items whose time has come (``now`` defaults to the store's clock), oldest first."""
        when = self._db.now() if now is None else now
        rows = await self._db.fetchall(
            "SELECT * FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
            (when, limit),
        )
        return [item_from_row(row) for row in rows]

    async def failed_for_case(self, case_id: int, kind: str) -> list[OutboxItem]:
        """Items of one kind for a case that were given up on (e.g. a DM the member refuses)."""
        rows = await self._db.fetchall(
            "SELECT * FROM outbox WHERE case_id = ? AND kind = ? AND status = 'failed' ORDER BY id",
            (case_id, kind),
        )
        return [item_from_row(row) for row in rows]

    # With `token` (a claim on the shared queue), a move happens only while the claim is still
    # this process's: one declared dead while it was paused records nothing of its late send.

    async def held(self, item_id: int, token: int) -> bool:
        """Whether the claim with `token` still holds the item (not taken back meanwhile)."""
        row = await self._db.fetchone(
            "SELECT lease_token FROM outbox WHERE id = ? AND status = 'pending'", (item_id,)
        )
        return row is not None and row["lease_token"] is not None and int(row["lease_token"]) == token

    async def done(self, item_id: int, token: int | None = None) -> bool:
        return await self._move(item_id, "status = 'done', last_error = NULL", (), token) == 1

    async def retry_later(
        self, item_id: int, not_before: float, error: str, token: int | None = None
    ) -> bool:
        return (
            await self._move(
                item_id, "attempts = attempts + 1, not_before = ?, last_error = ?", (not_before, error), token
            )
            == 1
        )

    async def wait(self, item_id: int, not_before: float, reason: str) -> bool:
        """Put off an item that cannot be tried yet, without counting it as a failed attempt."""
        return await self._move(item_id, "not_before = ?, last_error = ?", (not_before, reason)) == 1

    async def wake_waiting(self, space_id: str) -> int:
        """Make a space's put-off items due now (e.g. after `setup` gave it a mod channel)."""
        return await self._db.execute(
            "UPDATE outbox SET not_before = 0 WHERE space_id = ? AND status = 'pending'", (space_id,)
        )

    async def fail(self, item_id: int, error: str, token: int | None = None) -> bool:
        return (
            await self._move(
                item_id, "status = 'failed', attempts = attempts + 1, last_error = ?", (error,), token
            )
            == 1
        )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        found = {row["status"]: int(row["n"]) for row in rows}
        return {status: found.get(status, 0) for status in OUTBOX_STATUSES}

    async def _move(
        self, item_id: int, assignments: str, params: tuple[object, ...], token: int | None = None
    ) -> int:
        fence, fenced = ("", ()) if token is None else (" AND lease_token = ?", (token,))
        return await self._db.execute(
            # A shared queue's lease ends with any move: the item is free for the next claim.
            f"UPDATE outbox SET {assignments}, lease_owner = NULL, lease_token = NULL "  # noqa: S608
            f"WHERE id = ? AND status = 'pending'{fence}",
            (*params, item_id, *fenced),
        )
