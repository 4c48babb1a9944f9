"""Retention blanks what members wrote after the space's retention period; the records stay."""

from __future__ import annotations

from bot.store import Store
from tests.store._helpers import DAY, FakeClock, case_fields, new_job, verdict


async def fill(store: Store, message_id: str, space_id: str = "g1") -> tuple[int, int, int]:
    [job_id] = await store.inbox.add_many([new_job(message_id, space_id=space_id, text="secret words")])
    await store.inbox.lease(job_id)
    await store.inbox.complete(job_id)
    tier2 = verdict(tier=2, previous=verdict(tier=1))
    verdict_id = await store.verdicts.add(job_id, space_id, message_id, tier2, shadow=False)
    case, _ = await store.cases.open(**case_fields(message_id, space_id=space_id), verdict_id=verdict_id)
    return job_id, verdict_id, case.id


async def test_old_text_is_blanked_and_rows_kept(store: Store, clock: FakeClock) -> None:
    await store.spaces.upsert("g1", "discord", retention_days=7)
    job_id, verdict_id, case_id = await fill(store, "old")
    [pending_id] = await store.inbox.add_many([new_job("waiting", text="still queued")])
    clock.advance(3 * DAY)
    fresh = await fill(store, "fresh")
    clock.advance(5 * DAY)  # "old" is 8 days old, "fresh" 5

    assert await store.purge_expired_text() == 3
    assert await store.purge_expired_text() == 0  # already blank: nothing more to do

    job = await store.inbox.get(job_id)
    assert job is not None and job.text == "" and job.context == () and job.status == "done"
    stored = await store.verdicts.get(verdict_id)
    assert stored is not None and stored.reasoning == "" and stored.violation and stored.rationale
    assert stored.previous is not None and stored.previous["reasoning"] == ""
    assert stored.previous["tier"] == 1
    case = await store.cases.get(case_id)
    assert case is not None and case.excerpt == "" and case.status == "open" and case.rationale

    waiting = await store.inbox.get(pending_id)
    assert waiting is not None and waiting.text == "still queued"  # unfinished work keeps its text
    fresh_job = await store.inbox.get(fresh[0])
    assert fresh_job is not None and fresh_job.text == "secret words"
    fresh_case = await store.cases.get(fresh[2])
    assert fresh_case is not None and fresh_case.excerpt


async def test_each_space_has_its_own_retention(store: Store, clock: FakeClock) -> None:
    await store.spaces.upsert("short", "discord", retention_days=1)
    await store.spaces.upsert("long", "slack", retention_days=90)
    for space_id in ("short", "long", "unknown"):  # "unknown" has no settings row: the default 30 days
        await fill(store, "m1", space_id)
    clock.advance(31 * DAY)
    assert await store.purge_expired_text() == 6
    for space_id, kept in (("short", False), ("unknown", False), ("long", True)):
        [case] = await store.cases.by_message(space_id, "m1")
        assert bool(case.excerpt) is kept, space_id


async def test_the_screens_labels_of_a_message_go_with_its_text(store: Store, clock: FakeClock) -> None:
    await store.spaces.upsert("g1", "discord", retention_days=7)
    await store.screens.add_label("p", "g1", "old", b"\x01\x00\x02\x00", 1, "tier1")
    await store.screens.add_check("p", "g1", keyword=False, screened=True, violation=True)
    clock.advance(3 * DAY)
    await store.screens.add_label("p", "g1", "fresh", b"\x03\x00", 0, "tier1")
    clock.advance(5 * DAY)  # "old" is 8 days old, "fresh" 5
    assert await store.purge_expired_text() == 2  # the old label and the old check: deleted
    assert [row.message_id for row in await store.screens.labels("p", 10)] == ["fresh"]
    assert (await store.screens.check_counts("p")).checks == 0
