"""The durable queue of classification jobs: one row per (message, candidate policy).

A job moves pending -> leased -> done, or back to pending with a later ``not_before`` (retry), or to
failed (kept for inspection). Leases do not expire on their own: at startup, ``release_leases()`` hands
back what a crashed process had taken.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from bot.core.messages import ContextLine
from bot.store.db import dumps, from_row
from bot.store.dialect import Db, Row
from bot.store.records import JOB_STATUSES, Job, NewJob

JOBS_CHANNEL = "modbot_inbox"  # NOTIFY channel of the shared queue: new jobs were enqueued

_COLUMNS = (
    "dedupe_key, space_id, platform, channel_id, channel_name, message_id, author_id, author_name, text, "
    "context_json, edited, sent_at, policy_id, policy_version, policy_hash, match_reason, status, "
    "attempts, not_before, escalate, created_at, updated_at"
)
_INSERT = f"INSERT OR IGNORE INTO inbox ({_COLUMNS}) VALUES ({', '.join('?' * 22)})"  # noqa: S608


def _context(text: str) -> tuple[ContextLine, ...]:
    return tuple(ContextLine(author=str(a), text=str(t)) for a, t in json.loads(text or "[]"))


def job_from_row(row: Row) -> Job:
    return from_row(
        Job,
        row,
        context=_context(row["context_json"]),
        edited=bool(row["edited"]),
        escalate=bool(row["escalate"]),
    )


class InboxRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add_many(self, jobs: Iterable[NewJob]) -> list[int]:
        """Enqueue jobs in one transaction; the ids of those inserted (a known dedupe_key is skipped)."""
        now = self._db.now()
        ids: list[int] = []
        async with self._db.transaction():
            for job in (batch := list(jobs)):
                context = dumps([[line.author, line.text] for line in job.context])
                row_id = await self._db.insert(
                    _INSERT,
                    (
                        job.dedupe_key, job.space_id, job.platform, job.channel_id, job.channel_name,
                        job.message_id, job.author_id, job.author_name, job.text, context, int(job.edited),
                        job.sent_at, job.policy_id, job.policy_version, job.policy_hash, job.match_reason,
                        "pending", 0, job.not_before, int(job.escalate), now, now,
                    ),
                )  # fmt: skip
                if row_id is not None:
                    ids.append(row_id)
            if ids and self._db.dialect == "postgres":
                await self._announce({job.space_id for job in batch})
        return ids

    async def _announce(self, spaces: set[str]) -> None:
        """Shared queue: give each space a turn row and wake waiting claimers, once per enqueue."""
        for space_id in sorted(spaces):
            await self._db.execute("INSERT OR IGNORE INTO space_turns (space_id) VALUES (?)", (space_id,))
        await self._db.notify(JOBS_CHANNEL)

    async def get(self, job_id: int) -> Job | None:
        row = await self._db.fetchone("SELECT * FROM inbox WHERE id = ?", (job_id,))
        return job_from_row(row) if row else None

    async def pending(self, limit: int | None = None, *, now: float | None = None) -> list[Job]:
        """Pending jobs, oldest first; with ``now``, only those whose ``not_before`` has come."""
        sql = "SELECT * FROM inbox WHERE status = 'pending'"
        params: list[object] = []
        if now is not None:
            sql += " AND not_before <= ?"
            params.append(now)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [job_from_row(row) for row in await self._db.fetchall(sql, params)]

    async def lease(self, job_id: int) -> bool:
        """Take a pending job for work; False when it is not pending (taken, done or gone)."""
        return await self._move(job_id, ("pending",), "status = 'leased'") == 1

    async def complete(self, job_id: int) -> bool:
        return await self._move(job_id, ("pending", "leased"), "status = 'done', last_error = NULL") == 1

    async def retry_later(self, job_id: int, not_before: float, error: str) -> bool:
        """Give a leased job back to the queue, not to be tried before ``not_before``."""
        return (
            await self._move(
                job_id,
                ("leased",),
                "status = 'pending', attempts = attempts + 1, not_before = ?, last_error = ?",
                (not_before, error),
            )
            == 1
        )

    async def fail(self, job_id: int, error: str) -> bool:
        """Give up on the job; the row stays for inspection."""
        return (
            await self._move(
                job_id,
                ("pending", "leased"),
                "status = 'failed', attempts = attempts + 1, last_error = ?",
                (error,),
            )
            == 1
        )

    async def withdraw(self, space_id: str, message_id: str) -> int:
        """Skip a message's jobs not yet taken (it was deleted before its check); how many."""
        return await self._db.execute(
            "UPDATE inbox SET status = 'done', last_error = 'deleted before its check', updated_at = ? "
            "WHERE space_id = ? AND message_id = ? AND status = 'pending'",
            (self._db.now(), space_id, message_id),
        )

    async def release_leases(self) -> int:
        """Return every leased job to pending (a previous process died holding them)."""
        return await self._db.execute(
            "UPDATE inbox SET status = 'pending', updated_at = ? WHERE status = 'leased'", (self._db.now(),)
        )

    async def counts(self) -> dict[str, int]:
        """Jobs per status; every status is present."""
        rows = await self._db.fetchall("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status")
        found = {row["status"]: int(row["n"]) for row in rows}
        return {status: found.get(status, 0) for status in JOB_STATUSES}

    async def _move(
        self, job_id: int, from_statuses: tuple[str, ...], assignments: str, params: tuple[object, ...] = ()
    ) -> int:
        allowed = ", ".join("?" * len(from_statuses))
        return await self._db.execute(
            f"UPDATE inbox SET {assignments}, updated_at = ? "  # noqa: S608
            f"WHERE id = ? AND status IN ({allowed})",
            (*params, self._db.now(), job_id, *from_statuses),
        )
