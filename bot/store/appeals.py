"""Appeals: a member asks for a second look at a case, at most once per case."""

from __future__ import annotations

from bot.store.db import from_row
from bot.store.dialect import Db, Row
from bot.store.records import APPEAL_STATUSES, Appeal, AppealStatus


def _appeal(row: Row) -> Appeal:
    return from_row(Appeal, row)


def _check_status(status: str) -> AppealStatus:
    for known in APPEAL_STATUSES:
        if status == known:
            return known
    raise ValueError(f"unknown appeal status {status!r}; expected one of {', '.join(APPEAL_STATUSES)}")


class AppealRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def create(self, case_id: int, member_id: str, statement: str) -> Appeal | None:
        """File the appeal; None when the case already has one. KeyError when there is no such case."""
        async with self._db.transaction():
            if await self._db.fetchone("SELECT 1 FROM cases WHERE id = ?", (case_id,)) is None:
                raise KeyError(f"no case {case_id}")
            row_id = await self._db.insert(
                "INSERT OR IGNORE INTO appeals (case_id, member_id, statement, status, created_at) "
                "VALUES (?, ?, ?, 'pending', ?)",
                (case_id, member_id, statement, self._db.now()),
            )
            return await self.get(row_id) if row_id is not None else None

    async def get(self, appeal_id: int) -> Appeal | None:
        row = await self._db.fetchone("SELECT * FROM appeals WHERE id = ?", (appeal_id,))
        return _appeal(row) if row else None

    async def for_case(self, case_id: int) -> Appeal | None:
        row = await self._db.fetchone("SELECT * FROM appeals WHERE case_id = ?", (case_id,))
        return _appeal(row) if row else None

    async def set_second_opinion(self, appeal_id: int, json_text: str) -> Appeal:
        """Attach the higher tier's fresh verdict (JSON text) for the moderator who decides."""
        return await self._update(appeal_id, "second_opinion_json = ?", (json_text,))

    async def decide(self, appeal_id: int, status: str, actor: str) -> Appeal | None:
        """Decide a pending appeal; None when it was no longer pending (someone decided first)."""
        checked = _check_status(status)
        async with self._db.transaction():
            changed = await self._db.execute(
                "UPDATE appeals SET status = ?, decided_by = ?, decided_at = ? "
                "WHERE id = ? AND status = 'pending'",
                (checked, actor, self._db.now(), appeal_id),
            )
            return await self.get(appeal_id) if changed else None

    async def count_recent(self, member_id: str, since: float, space_id: str | None = None) -> int:
        """How many appeals the member filed at or after ``since`` (optionally in one space)."""
        sql = "SELECT COUNT(*) FROM appeals a JOIN cases c ON c.id = a.case_id "
        sql += "WHERE a.member_id = ? AND a.created_at >= ?"
        params: list[object] = [member_id, since]
        if space_id is not None:
            sql += " AND c.space_id = ?"
            params.append(space_id)
        row = await self._db.fetchone(sql, params)
        return int(row[0]) if row else 0

    async def pending(self, space_id: str) -> list[Appeal]:
        """The space's undecided appeals, oldest first."""
        rows = await self._db.fetchall(
            "SELECT a.* FROM appeals a JOIN cases c ON c.id = a.case_id "
            "WHERE c.space_id = ? AND a.status = 'pending' ORDER BY a.id",
            (space_id,),
        )
        return [_appeal(row) for row in rows]

    async def _update(self, appeal_id: int, assignments: str, params: tuple[object, ...]) -> Appeal:
        async with self._db.transaction():
            changed = await self._db.execute(
                f"UPDATE appeals SET {assignments} WHERE id = ?",  # noqa: S608
                (*params, appeal_id),
            )
            appeal = await self.get(appeal_id) if changed else None
            if appeal is None:
                raise KeyError(f"no appeal {appeal_id}")
            return appeal
