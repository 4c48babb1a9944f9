"""Aggregates for the Prometheus endpoint: a few grouped counts, each served by an index.

Read at every Prometheus scrape, so each query counts rows through an index rather than
reading message rows; none returns text.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.cases import CONFIRMED, REJECTED
from bot.store.dialect import Db


@dataclass(frozen=True, slots=True)
class PolicyCases:
    space_id: str
    policy_id: str
    by_status: dict[str, int]

    @property
    def flags(self) -> int:
        return sum(self.by_status.values())

    @property
    def confirmed(self) -> int:
        return sum(self.by_status.get(s, 0) for s in CONFIRMED)

    @property
    def rejected(self) -> int:
        return sum(self.by_status.get(s, 0) for s in REJECTED)

    @property
    def precision(self) -> float | None:
        """Share of decided flags the moderators confirmed; None before any decision."""
        decided = self.confirmed + self.rejected
        return self.confirmed / decided if decided else None


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    cases: list[PolicyCases]
    appeals: dict[tuple[str, str], int]  # (space, status) -> appeals
    jobs: dict[str, int]  # inbox status -> jobs
    outbox: dict[str, int]  # outbox status -> items
    oldest_waiting_job_at: float | None  # created_at of the oldest pending or leased job


class MetricsRepo:
    def __init__(self, db: Db) -> None:
        self._db = db
        self._live_only: str | None = None

    async def _live_cases(self) -> str:
        """A filter for live cases: schemas with shadow cards keep those out of flags and precision."""
        if self._live_only is None:
            if self._db.dialect == "postgres":  # its migrations add the column (002); no PRAGMA there
                self._live_only = "WHERE shadow = 0 "
                return self._live_only
            columns = {row["name"] for row in await self._db.fetchall("PRAGMA table_info(cases)")}
            self._live_only = "WHERE shadow = 0 " if "shadow" in columns else ""
        return self._live_only

    async def snapshot(self) -> StoreSnapshot:
        rows = await self._db.fetchall(
            "SELECT space_id, policy_id, status, COUNT(*) AS n FROM cases "  # noqa: S608 - a fixed filter
            f"{await self._live_cases()}GROUP BY space_id, policy_id, status"
        )
        grouped: dict[tuple[str, str], dict[str, int]] = {}
        for row in rows:
            grouped.setdefault((row["space_id"], row["policy_id"]), {})[row["status"]] = int(row["n"])
        cases = [PolicyCases(space, policy, counts) for (space, policy), counts in sorted(grouped.items())]
        appeal_rows = await self._db.fetchall(
            "SELECT c.space_id AS space_id, a.status AS status, COUNT(*) AS n "
            "FROM appeals a JOIN cases c ON c.id = a.case_id GROUP BY c.space_id, a.status"
        )
        appeals = {(r["space_id"], r["status"]): int(r["n"]) for r in appeal_rows}
        jobs = {
            r["status"]: int(r["n"])
            for r in await self._db.fetchall("SELECT status, COUNT(*) AS n FROM inbox GROUP BY status")
        }
        outbox = {
            r["status"]: int(r["n"])
            for r in await self._db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        }
        oldest = await self._db.fetchone(
            "SELECT MIN(created_at) AS at FROM inbox WHERE status IN ('pending', 'leased')"
        )
        at = oldest["at"] if oldest is not None else None
        return StoreSnapshot(cases, appeals, jobs, outbox, float(at) if at is not None else None)


class _Rollback(Exception):
    """Raised inside the probe's transaction so that nothing it wrote is kept."""


async def probe_write(db: Db) -> None:
    """Raise (sqlite3.Error) when the database file cannot be written; leaves it unchanged."""
    try:
        async with db.transaction():
            await db.execute("UPDATE schema_version SET name = name")
            raise _Rollback
    except _Rollback:
        return
