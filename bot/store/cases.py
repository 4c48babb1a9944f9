"""Cases: a flagged (message, policy) pair, from flag to a moderator's decision."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from bot.store.db import dumps, from_row, loads_strs
from bot.store.dialect import Db, Row
from bot.store.records import CASE_STATUSES, Case, CaseStatus

EXCERPT_CHARS = 300
CONFIRMED: tuple[CaseStatus, ...] = ("removed", "timed_out", "upheld")  # the flag was right
REJECTED: tuple[CaseStatus, ...] = ("dismissed", "overturned")  # the flag was wrong


class CaseConflict(Exception):
    """A decision lost a race: the case was no longer in a status the caller expected."""

    def __init__(self, case: Case) -> None:
        super().__init__(f"case {case.id} is already {case.status}")
        self.case = case


def _case(row: Row) -> Case:
    return from_row(Case, row, rule_ids=loads_strs(row["rule_ids"]), shadow=bool(row["shadow"]))


def _check_status(status: str) -> CaseStatus:
    for known in CASE_STATUSES:
        if status == known:
            return known
    raise ValueError(f"unknown case status {status!r}; expected one of {', '.join(CASE_STATUSES)}")


class CaseRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def open(
        self,
        *,
        space_id: str,
        platform: str,
        channel_id: str,
        message_id: str,
        author_id: str,
        author_name: str,
        policy_id: str,
        policy_version: int,
        rule_ids: Iterable[str],
        category: str | None,
        rationale: str,
        confidence: str,
        tier: int,
        text: str,
        verdict_id: int | None = None,
        status: str = "open",
        shadow: bool = False,
    ) -> tuple[Case, bool]:
        """Open a case for (space, message, policy); ``(case, True)`` when new, ``(existing, False)``
        when that message was already flagged under that policy. Only the first 300 characters of
        ``text`` are kept, as the excerpt."""
        checked = _check_status(status)
        now = self._db.now()
        async with self._db.transaction():
            row_id = await self._db.insert(
                "INSERT OR IGNORE INTO cases (space_id, platform, channel_id, message_id, author_id, "
                "author_name, policy_id, policy_version, rule_ids, category, rationale, confidence, tier, "
                "excerpt, verdict_id, status, shadow, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    space_id, platform, channel_id, message_id, author_id, author_name, policy_id,
                    policy_version, dumps(list(rule_ids)), category, rationale, confidence, tier,
                    text[:EXCERPT_CHARS], verdict_id, checked, int(shadow), now, now,
                ),
            )  # fmt: skip
            if row_id is not None:
                return await self._require(row_id), True
            row = await self._db.fetchone(
                "SELECT * FROM cases WHERE space_id = ? AND message_id = ? AND policy_id = ?",
                (space_id, message_id, policy_id),
            )
            if row is None:  # pragma: no cover - the unique key said it exists
                raise RuntimeError("case vanished")
            return _case(row), False

    async def get(self, case_id: int) -> Case | None:
        row = await self._db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
        return _case(row) if row else None

    async def by_message(self, space_id: str, message_id: str) -> builtins.list[Case]:
        rows = await self._db.fetchall(
            "SELECT * FROM cases WHERE space_id = ? AND message_id = ? ORDER BY id", (space_id, message_id)
        )
        return [_case(row) for row in rows]

    async def list(self, space_id: str, status: str | None = None, limit: int = 50) -> builtins.list[Case]:
        """The space's cases, newest first, optionally only those in ``status``."""
        if status is None:
            sql, params = "SELECT * FROM cases WHERE space_id = ?", [space_id]
        else:
            sql, params = "SELECT * FROM cases WHERE space_id = ? AND status = ?", [space_id, status]
        rows = await self._db.fetchall(f"{sql} ORDER BY id DESC LIMIT ?", [*params, limit])
        return [_case(row) for row in rows]

    async def set_flag_ref(self, case_id: int, ref: str) -> Case:
        """Remember the platform id of the case's card in the mod channel."""
        return await self._update(case_id, "flag_ref = ?", (ref,))

    async def set_status(self, case_id: int, status: str, *, expected: Iterable[str] | None = None) -> Case:
        """Change the status; with ``expected``, raise CaseConflict unless the case is in one of them."""
        checked = _check_status(status)
        async with self._db.transaction():
            await self._expect(case_id, expected)
            return await self._update(case_id, "status = ?", (checked,))

    async def _expect(self, case_id: int, expected: Iterable[str] | None) -> None:
        """Inside a transaction: raise CaseConflict unless the case is in one of `expected`."""
        if expected is not None:
            current = await self._require(case_id)
            if current.status not in set(expected):
                raise CaseConflict(current)

    async def decide(
        self,
        case_id: int,
        status: str,
        actor: str,
        action_taken: str | None = None,
        *,
        expected: Iterable[str] | None = None,
    ) -> Case:
        """Record a decision. With ``expected``, raise CaseConflict (holding the current case) unless
        the case is still in one of those statuses: two moderators clicking at once decide once."""
        checked = _check_status(status)
        async with self._db.transaction():
            await self._expect(case_id, expected)
            return await self._update(
                case_id,
                "status = ?, decided_by = ?, decided_at = ?, action_taken = COALESCE(?, action_taken)",
                (checked, actor, self._db.now(), action_taken),
            )

    async def precision(self, space_id: str, policy_id: str) -> dict[str, Any]:
        """How often moderators agreed with the flags of one policy.

        removed / timed_out / upheld count as confirmed, dismissed / overturned as dismissed;
        ``precision`` is None until something was decided."""
        marks = ", ".join("?" * (len(CONFIRMED) + len(REJECTED)))
        row = await self._db.fetchone(
            "SELECT "  # noqa: S608 - only placeholders are interpolated
            f"SUM(CASE WHEN status IN ({', '.join('?' * len(CONFIRMED))}) THEN 1 ELSE 0 END) AS confirmed, "
            f"SUM(CASE WHEN status IN ({', '.join('?' * len(REJECTED))}) THEN 1 ELSE 0 END) AS dismissed "
            f"FROM cases WHERE space_id = ? AND policy_id = ? AND status IN ({marks})",
            (*CONFIRMED, *REJECTED, space_id, policy_id, *CONFIRMED, *REJECTED),
        )
        confirmed = int(row["confirmed"] or 0) if row else 0
        dismissed = int(row["dismissed"] or 0) if row else 0
        total = confirmed + dismissed
        return {
            "confirmed": confirmed,
            "dismissed": dismissed,
            "precision": confirmed / total if total else None,
        }

    async def _update(self, case_id: int, assignments: str, params: tuple[object, ...]) -> Case:
        async with self._db.transaction():
            changed = await self._db.execute(
                f"UPDATE cases SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*params, self._db.now(), case_id),
            )
            if not changed:
                raise KeyError(f"no case {case_id}")
            return await self._require(case_id)

    async def _require(self, case_id: int) -> Case:
        case = await self.get(case_id)
        if case is None:
            raise KeyError(f"no case {case_id}")
        return case
