"""Every model answer, kept for moderators, statistics and evaluation."""

from __future__ import annotations

from typing import Any

from bot.core.messages import Verdict
from bot.store.db import dumps, from_row, loads_strs
from bot.store.dialect import Db, Row
from bot.store.records import StoredVerdict


def _verdict(row: Row) -> StoredVerdict:
    return from_row(
        StoredVerdict,
        row,
        rule_ids=loads_strs(row["rule_ids"]),
        violation=bool(row["violation"]),
        shadow=bool(row["shadow"]),
        cached=bool(row["cached"]),
    )


class VerdictRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(
        self,
        job_id: int | None,
        space_id: str,
        message_id: str,
        verdict: Verdict,
        shadow: bool,
        cached: bool = False,
    ) -> int:
        """Store one verdict; its id."""
        previous = dumps(verdict.previous.to_dict()) if verdict.previous is not None else None
        failed = dumps(verdict.escalation_failed.to_dict()) if verdict.escalation_failed else None
        row_id = await self._db.insert(
            "INSERT INTO verdicts (job_id, space_id, message_id, policy_id, policy_version, policy_hash, "
            "tier, model, violation, confidence, rule_ids, category, rationale, reasoning, source, "
            "latency_ms, prompt_tokens, completion_tokens, previous_json, escalation_failed_json, shadow, "
            "cached, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)",
            (
                job_id, space_id, message_id, verdict.policy.id, verdict.policy.version,
                verdict.policy.content_hash, verdict.tier, verdict.model, int(verdict.violation),
                verdict.confidence, dumps(list(verdict.rule_ids)), verdict.category, verdict.rationale,
                verdict.reasoning, verdict.source, verdict.latency_ms, verdict.prompt_tokens,
                verdict.completion_tokens, previous, failed, int(shadow), int(cached), self._db.now(),
            ),
        )  # fmt: skip
        if row_id is None:  # a plain INSERT inserts or raises
            raise RuntimeError("verdict was not stored")
        return row_id

    async def get(self, verdict_id: int) -> StoredVerdict | None:
        row = await self._db.fetchone("SELECT * FROM verdicts WHERE id = ?", (verdict_id,))
        return _verdict(row) if row else None

    async def for_message(self, space_id: str, message_id: str) -> list[StoredVerdict]:
        """The message's verdicts, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM verdicts WHERE space_id = ? AND message_id = ? ORDER BY id", (space_id, message_id)
        )
        return [_verdict(row) for row in rows]

    async def stats(self, space_id: str, policy_id: str) -> dict[str, Any]:
        """``{"calls", "violations", "shadow", "by_tier": {tier: {"calls", "violations"}}}``."""
        rows = await self._db.fetchall(
            "SELECT tier, COUNT(*) AS calls, SUM(violation) AS violations, SUM(shadow) AS shadow "
            "FROM verdicts WHERE space_id = ? AND policy_id = ? GROUP BY tier ORDER BY tier",
            (space_id, policy_id),
        )
        by_tier = {
            int(row["tier"]): {"calls": int(row["calls"]), "violations": int(row["violations"] or 0)}
            for row in rows
        }
        return {
            "calls": sum(t["calls"] for t in by_tier.values()),
            "violations": sum(t["violations"] for t in by_tier.values()),
            "shadow": sum(int(row["shadow"] or 0) for row in rows),
            "by_tier": by_tier,
        }
