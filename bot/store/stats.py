"""Figures for `stats`: what each policy saw, cost and caught over a period, from the tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.store.cases import CONFIRMED, REJECTED
from bot.store.dialect import Db

DAY = 86400


@dataclass
class PolicyFigures:
    """One policy in one space since a time. Latencies are of real model calls only."""

    policy_id: str
    candidates: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    flags: int = 0
    shadow_flags: int = 0
    confirmed: int = 0
    dismissed: int = 0
    appeals_upheld: int = 0
    appeals_overturned: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


class StatsRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def count_messages(self, space_id: str, n: int = 1) -> None:
        """`n` more messages seen in the space today."""
        await self._db.execute(
            "INSERT INTO message_counts (space_id, day, messages) VALUES (?, ?, ?) "
            "ON CONFLICT (space_id, day) DO UPDATE "
            "SET messages = message_counts.messages + excluded.messages",
            (space_id, int(self._db.now() // DAY), n),
        )

    async def messages_seen(self, space_id: str, since: float) -> int:
        row = await self._db.fetchone(
            "SELECT COALESCE(SUM(messages), 0) FROM message_counts WHERE space_id = ? AND day >= ?",
            (space_id, int(since // DAY)),
        )
        return int(row[0]) if row else 0

    async def per_policy(self, space_id: str, since: float) -> dict[str, PolicyFigures]:
        figures: dict[str, PolicyFigures] = {}

        def get(policy_id: str) -> PolicyFigures:
            return figures.setdefault(policy_id, PolicyFigures(policy_id))

        for row in await self._db.fetchall(
            "SELECT policy_id, COUNT(*) FROM inbox WHERE space_id = ? AND created_at >= ? "
            "AND escalate = 0 GROUP BY policy_id",
            (space_id, since),
        ):
            get(row[0]).candidates = int(row[1])
        for row in await self._db.fetchall(
            "SELECT policy_id, cached, latency_ms FROM verdicts WHERE space_id = ? AND created_at >= ?",
            (space_id, since),
        ):
            fig = get(row[0])
            if row[1]:
                fig.cache_hits += 1
            else:
                fig.model_calls += 1
                fig.latencies_ms.append(float(row[2]))
        marks = ", ".join("?" * len(CONFIRMED)), ", ".join("?" * len(REJECTED))
        for row in await self._db.fetchall(
            "SELECT policy_id, SUM(shadow = 0), SUM(shadow = 1), "  # noqa: S608 - placeholders only
            f"SUM(status IN ({marks[0]})), SUM(status IN ({marks[1]})) "
            "FROM cases WHERE space_id = ? AND created_at >= ? GROUP BY policy_id",
            (*CONFIRMED, *REJECTED, space_id, since),
        ):
            fig = get(row[0])
            fig.flags, fig.shadow_flags = int(row[1] or 0), int(row[2] or 0)
            fig.confirmed, fig.dismissed = int(row[3] or 0), int(row[4] or 0)
        for row in await self._db.fetchall(
            "SELECT c.policy_id, SUM(a.status = 'upheld'), SUM(a.status = 'overturned') "
            "FROM appeals a JOIN cases c ON c.id = a.case_id "
            "WHERE c.space_id = ? AND a.created_at >= ? GROUP BY c.policy_id",
            (space_id, since),
        ):
            fig = get(row[0])
            fig.appeals_upheld, fig.appeals_overturned = int(row[1] or 0), int(row[2] or 0)
        return figures
