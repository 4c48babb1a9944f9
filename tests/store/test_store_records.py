"""Verdicts, the audit trail and the outbox keep what later steps rely on."""

from __future__ import annotations

import pytest

from bot.store import Store
from bot.store.faults import IntegrityFault
from tests.store._helpers import FakeClock, new_job, verdict


async def test_verdicts_keep_both_tiers(store: Store) -> None:
    [job_id] = await store.inbox.add_many([new_job("m1")])
    first = await store.verdicts.add(job_id, "g1", "m1", verdict(tier=1), shadow=True)
    second = await store.verdicts.add(
        job_id, "g1", "m1", verdict(violation=False, tier=2, previous=verdict(tier=1)), shadow=False
    )
    [a, b] = await store.verdicts.for_message("g1", "m1")
    assert (a.id, a.tier, a.shadow, a.violation, a.rule_ids) == (first, 1, True, True, ("SP1",))
    assert (b.id, b.tier, b.violation) == (second, 2, False)
    assert a.previous is None and b.previous is not None and b.previous["violation"] is True
    assert (a.policy_id, a.policy_version, a.policy_hash) == ("spam", 1, "h1")
    stats = await store.verdicts.stats("g1", "spam")
    assert stats["calls"] == 2 and stats["violations"] == 1
    assert stats["by_tier"] == {1: {"calls": 1, "violations": 1}, 2: {"calls": 1, "violations": 0}}


async def test_audit_records_refusals(store: Store, clock: FakeClock) -> None:
    await store.audit.record("g1", "u7", "member", "policy.set_mode", "spam", allowed=False)
    clock.advance(1)
    await store.audit.record("g1", "u1", "admin", "policy.set_mode", "spam", True, {"mode": "live"})
    await store.audit.record("g2", "u1", "admin", "space.update", "g2", True)
    newest, refused = await store.audit.list("g1")
    assert (refused.actor_id, refused.allowed, refused.detail) == ("u7", False, {})
    assert (newest.allowed, newest.detail, newest.created_at) == (True, {"mode": "live"}, clock.now)
    assert len(await store.audit.list("g1", limit=1)) == 1


async def test_outbox_delivery_cycle(store: Store, clock: FakeClock) -> None:
    a = await store.outbox.add("g1", "post_flag", {"text": "é"})
    b = await store.outbox.add("g1", "dm", {"notice": "removed"})
    assert [i.id for i in await store.outbox.due(clock.now)] == [a, b]
    assert (await store.outbox.due(clock.now))[0].payload == {"text": "é"}
    await store.outbox.done(a)
    await store.outbox.retry_later(b, clock.now + 30, "429")
    assert await store.outbox.due(clock.now) == []
    [item] = await store.outbox.due(clock.now + 30)
    assert (item.id, item.attempts, item.last_error) == (b, 1, "429")
    await store.outbox.fail(b, "dm closed")
    assert await store.outbox.counts() == {"pending": 0, "done": 1, "failed": 1}


async def test_outbox_case_must_exist(store: Store) -> None:
    with pytest.raises(IntegrityFault):  # foreign keys are enforced
        await store.outbox.add("g1", "delete", {}, case_id=42)
