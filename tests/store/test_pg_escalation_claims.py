"""A claimer without a tier-2 model (a donor's `modbot worker`) never leases a job that asks for
tier 2 (an appeal, a moderator's Escalate); every other claimer still does, so none waits forever."""

from __future__ import annotations

import dataclasses

from bot.store import Store
from tests.store._helpers import new_job


async def test_escalations_go_only_to_claimers_that_take_them(pg_url: str) -> None:
    store = await Store.open(pg_url)
    worker = await store.register_worker()
    try:
        queue = store.shared_queue()
        escalation = dataclasses.replace(new_job("m1", space_id="g1"), escalate=True)
        [escalation_id] = await store.inbox.add_many([escalation])
        [plain_id] = await store.inbox.add_many([new_job("m2", space_id="g2")])

        first = await queue.claim(worker.id, escalations=False)
        assert first is not None and first.job.id == plain_id
        assert await queue.claim(worker.id, escalations=False) is None  # only the escalation is left

        taken = await queue.claim(worker.id)  # a `modbot run` process takes everything
        assert taken is not None and taken.job.id == escalation_id and taken.job.escalate
    finally:
        await worker.close()
        await store.close()
