"""The inbox and outbox as a queue shared by several processes on one Postgres.

A claim takes one due job in one transaction: the space whose turn is oldest (and whose budget has a
token) is locked with ``FOR UPDATE SKIP LOCKED``, so two claimers at once serve two different spaces
and a flooding space cannot starve a quiet one (only when every space with work is being served does
a claimer wait for one of those locks, which is held for one short transaction); its oldest due job
is leased to the claimer with a fresh lease token; the space's turn moves to the back. Completing,
retrying or failing names that token, so only the holder of the current lease can finish a job.
``finishing()`` wraps the verdict and case writes in the same transaction as the fenced complete: a
process whose lease was taken back (it hung and was reaped) has its writes rolled back and gets
``LeaseLost``.

The outbox is claimed the same way (oldest due items, SKIP LOCKED, a token per item), so no card is
posted twice by two processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.store.inbox import JOBS_CHANNEL, job_from_row
from bot.store.outbox import item_from_row
from bot.store.pg import PgDatabase
from bot.store.records import Job, OutboxItem

DEFAULT_BUDGET_PER_MINUTE = 60
MAX_SPACES_TRIED = 8  # a claim gives up after this many spaces whose due job another claimer took

# The tokens a space's bucket holds now: full (a burst, a quarter minute of budget) until first
# charged, then refilled at budget_per_minute, as bot.core.scheduler's in-memory bucket does.
_BUDGET = "GREATEST(1, COALESCE((SELECT s.budget_per_minute FROM spaces s WHERE s.id = t.space_id), $2))"
_TOKENS = (
    f"CASE WHEN t.tokens IS NULL THEN GREATEST(1.0, {_BUDGET} / 4.0) "
    f"ELSE LEAST(GREATEST(1.0, {_BUDGET} / 4.0), t.tokens + ($1 - t.tokens_at) * {_BUDGET} / 60.0) END"
)
# A claimer without a tier-2 model (a donor's `modbot worker`) leaves escalations to the others.
_NO_ESCALATIONS = " AND escalate = 0"


def _next_space(only: str) -> str:
    return f"""
SELECT t.space_id FROM space_turns t
WHERE EXISTS (SELECT 1 FROM inbox i WHERE i.space_id = t.space_id AND i.status = 'pending'
              AND i.not_before <= $1{only})
  AND {_TOKENS} >= 1.0
  AND NOT (t.space_id = ANY($3::text[]))
ORDER BY t.served, t.space_id
LIMIT 1
FOR UPDATE OF t"""  # noqa: S608 - constants only


def _lease_oldest(only: str) -> str:
    """Lease the space's oldest due job and move the space's turn to the back, in one round trip."""
    return f"""
WITH job AS (
    UPDATE inbox SET status = 'leased', lease_owner = $2, lease_token = nextval('lease_tokens'),
                     updated_at = $3
    WHERE id = (SELECT id FROM inbox WHERE space_id = $1 AND status = 'pending' AND not_before <= $3{only}
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING *
), turn AS (
    UPDATE space_turns SET served = nextval('space_turn_seq')
    WHERE space_id = $1 AND EXISTS (SELECT 1 FROM job)
)
SELECT * FROM job"""  # noqa: S608 - constants only


_NEXT_SPACE = {True: _next_space(""), False: _next_space(_NO_ESCALATIONS)}  # by "escalations too"
_LEASE_OLDEST = {True: _lease_oldest(""), False: _lease_oldest(_NO_ESCALATIONS)}
_CHARGE = f"""
UPDATE space_turns t SET tokens = {_TOKENS} - 1.0, tokens_at = $1 WHERE t.space_id = $3"""  # noqa: S608
_FENCE = "id = $1 AND status = 'leased' AND lease_token = $2"


class LeaseLost(Exception):
    """The job's lease was taken back (this process was declared dead or hung): its work is void."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A job leased to one owner; ``token`` fences every write that finishes it."""

    job: Job
    owner: str
    token: int


@dataclass(frozen=True, slots=True)
class OutboxClaim:
    item: OutboxItem
    owner: str
    token: int


class SharedQueue:
    """Claims, fenced completion and budgets over the inbox and outbox tables (Postgres)."""

    def __init__(self, db: PgDatabase, default_budget: int = DEFAULT_BUDGET_PER_MINUTE) -> None:
        self._db = db
        self._default_budget = default_budget

    async def claim(self, owner: str, *, escalations: bool = True) -> Claim | None:
        """Lease the next due job, fairly across spaces and within their budgets; None when there is
        nothing this claimer may take now. ``escalations=False``: never a job that asks for tier 2."""
        next_space, lease_oldest = _NEXT_SPACE[escalations], _LEASE_OLDEST[escalations]
        now = self._db.now()
        skipped: list[str] = []
        async with self._db.transaction(), self._db.connection() as conn:
            for _ in range(MAX_SPACES_TRIED):
                # A space no other claimer is serving first; when every space with work is being
                # served (one busy space, several claimers), wait a moment for one of them.
                space = await conn.fetchval(next_space + " SKIP LOCKED", now, self._default_budget, skipped)
                if space is None:
                    space = await conn.fetchval(next_space, now, self._default_budget, skipped)
                if space is None:
                    return None
                row = await conn.fetchrow(lease_oldest, space, owner, now)
                if row is None:  # another claimer holds its only due job
                    skipped.append(space)
                    continue
                return Claim(job_from_row(row), owner, int(row["lease_token"]))
        return None

    async def claim_job(self, owner: str, job_id: int) -> Claim | None:
        """Lease one named pending job (an offer just made durable); None when it is not pending."""
        async with self._db.connection() as conn:
            row = await conn.fetchrow(
                "UPDATE inbox SET status = 'leased', lease_owner = $2, "
                "lease_token = nextval('lease_tokens'), updated_at = $3 "
                "WHERE id = $1 AND status = 'pending' RETURNING *",
                job_id, owner, self._db.now(),
            )  # fmt: skip
        return Claim(job_from_row(row), owner, int(row["lease_token"])) if row is not None else None

    async def pending_count(self) -> int:
        async with self._db.connection() as conn:
            return int(await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE status = 'pending'"))

    async def charge(self, space_id: str) -> None:
        """Take one model call from the space's budget (cache hits are not charged)."""
        async with self._db.connection() as conn:
            await conn.execute(_CHARGE, self._db.now(), self._default_budget, space_id)

    @asynccontextmanager
    async def finishing(self, claim: Claim) -> AsyncIterator[None]:
        """A transaction that holds the job's lease row, runs the body (verdict, case, outbox) and
        marks the job done; raises ``LeaseLost`` (writing nothing) when the lease is no longer ours."""
        async with self._db.transaction(), self._db.connection() as conn:
            sql = f"SELECT id FROM inbox WHERE {_FENCE} FOR UPDATE"  # noqa: S608 - constants only
            held = await conn.fetchval(sql, claim.job.id, claim.token)
            if held is None:
                raise LeaseLost(f"job {claim.job.id}")
            yield
            await self._finish(conn, claim, "status = 'done', last_error = NULL", ())

    async def complete(self, claim: Claim) -> bool:
        """Mark the job done if the lease is still ours."""
        async with self._db.connection() as conn:
            return await self._finish(conn, claim, "status = 'done', last_error = NULL", (), strict=False)

    async def retry_later(self, claim: Claim, not_before: float, error: str) -> bool:
        async with self._db.connection() as conn:
            return await self._finish(
                conn, claim, "status = 'pending', attempts = attempts + 1, not_before = $4, last_error = $5",
                (not_before, error), strict=False,
            )  # fmt: skip

    async def hand_off(self, claim: Claim, reason: str) -> bool:
        """Give the job back as one that needs tier 2 (its claimer has none): only a process with
        the larger model claims it now, and classifies it from scratch, as its own job."""
        async with self._db.connection() as conn:
            moved = await self._finish(
                conn, claim, "status = 'pending', escalate = 1, last_error = $4", (reason,), strict=False
            )
        if moved:
            await self._db.notify(JOBS_CHANNEL)
        return moved

    async def fail(self, claim: Claim, error: str) -> bool:
        async with self._db.connection() as conn:
            return await self._finish(
                conn, claim, "status = 'failed', attempts = attempts + 1, last_error = $4", (error,),
                strict=False,
            )  # fmt: skip

    async def _finish(
        self, conn: Any, claim: Claim, assignments: str, params: tuple[object, ...], *, strict: bool = True
    ) -> bool:
        status: str = await conn.execute(
            f"UPDATE inbox SET {assignments}, lease_owner = NULL, lease_token = NULL, updated_at = $3 "  # noqa: S608
            f"WHERE {_FENCE}",
            claim.job.id, claim.token, self._db.now(), *params,
        )  # fmt: skip
        done = status.endswith(" 1")
        if strict and not done:
            raise LeaseLost(f"job {claim.job.id}")
        return done

    async def claim_outbox(self, owner: str, limit: int = 50) -> list[OutboxClaim]:
        """Lease due outbox items (oldest first) that no live process holds."""
        async with self._db.connection() as conn:
            rows = await conn.fetch(
                "UPDATE outbox SET lease_owner = $1, lease_token = nextval('lease_tokens') WHERE id IN ("
                "SELECT id FROM outbox WHERE status = 'pending' AND not_before <= $2 AND lease_owner IS NULL "
                "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *",
                owner, self._db.now(), limit,
            )  # fmt: skip
        return [OutboxClaim(item_from_row(r), owner, int(r["lease_token"])) for r in sorted(rows, key=_by_id)]


def _by_id(row: Any) -> int:
    return int(row["id"])
