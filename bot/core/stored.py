"""Stored answers back as verdicts: an escalation starts from what the smaller model said."""

from __future__ import annotations

from bot.core.messages import CONFIDENCES, Confidence, PolicyRef, Verdict
from bot.store import Store
from bot.store.records import Job, StoredVerdict


def as_verdict(stored: StoredVerdict) -> Verdict:
    confidence: Confidence = next((c for c in CONFIDENCES if c == stored.confidence), "low")
    source = stored.source if stored.source in ("content", "reasoning", "bare") else "content"
    return Verdict(
        violation=stored.violation, confidence=confidence, rule_ids=stored.rule_ids,
        category=stored.category, rationale=stored.rationale, reasoning=stored.reasoning,
        tier=stored.tier, model=stored.model,
        policy=PolicyRef(stored.policy_id, stored.policy_version, stored.policy_hash),
        latency_ms=stored.latency_ms, prompt_tokens=stored.prompt_tokens,
        completion_tokens=stored.completion_tokens, source=source,  # type: ignore[arg-type]
    )  # fmt: skip


async def stored_answer(store: Store, job: Job) -> Verdict | None:
    """The latest stored answer for the job's message and policy, or None (then tier 1 is asked)."""
    for stored in reversed(await store.verdicts.for_message(job.space_id, job.message_id)):
        if stored.policy_id == job.policy_id:
            return as_verdict(stored)
    return None
