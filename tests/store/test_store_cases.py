"""Cases and appeals: one flag per (message, policy), one appeal per case, decisions counted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.store import CaseConflict, Store
from tests.store._helpers import FakeClock, case_fields


async def open_case(store: Store, **overrides: Any) -> int:
    fields: dict[str, Any] = {**case_fields(), **overrides}
    case, created = await store.cases.open(**fields)
    assert created
    return case.id


async def test_opening_a_case_twice_returns_the_first(store: Store) -> None:
    first, created = await store.cases.open(**case_fields())
    assert created and first.status == "open" and len(first.excerpt) == 300
    again, created_again = await store.cases.open(**case_fields())
    assert again == first and not created_again
    other, created_other = await store.cases.open(**case_fields(policy_id="scam"))
    assert created_other and other.id != first.id
    assert [c.id for c in await store.cases.by_message("g1", "m1")] == [first.id, other.id]


async def test_concurrent_flags_of_one_message_make_one_case(store: Store) -> None:
    results = await asyncio.gather(*(store.cases.open(**case_fields()) for _ in range(5)))
    assert sum(created for _, created in results) == 1
    assert len({case.id for case, _ in results}) == 1


async def test_decide_records_who_and_when(store: Store, clock: FakeClock) -> None:
    case_id = await open_case(store)
    await store.cases.set_flag_ref(case_id, "card-123")
    clock.advance(30)
    case = await store.cases.decide(case_id, "removed", "mod1", action_taken="deleted")
    assert (case.status, case.decided_by, case.action_taken, case.flag_ref) == (
        "removed",
        "mod1",
        "deleted",
        "card-123",
    )
    assert case.decided_at == clock.now


async def test_second_decision_conflicts_when_expected_state_is_gone(store: Store) -> None:
    case_id = await open_case(store)
    await store.cases.decide(case_id, "dismissed", "mod1", expected=("open",))
    with pytest.raises(CaseConflict) as info:
        await store.cases.decide(case_id, "removed", "mod2", expected=("open",))
    assert info.value.case.decided_by == "mod1"
    current = await store.cases.get(case_id)
    assert current is not None and current.status == "dismissed"


async def test_unknown_status_is_refused(store: Store) -> None:
    case_id = await open_case(store)
    with pytest.raises(ValueError, match="unknown case status"):
        await store.cases.set_status(case_id, "deleted")


async def test_list_newest_first_and_by_status(store: Store) -> None:
    ids = [await open_case(store, message_id=f"m{i}") for i in range(3)]
    await store.cases.decide(ids[0], "removed", "mod1")
    assert [c.id for c in await store.cases.list("g1")] == ids[::-1]
    assert [c.id for c in await store.cases.list("g1", status="open")] == ids[:0:-1]
    assert [c.id for c in await store.cases.list("g1", limit=1)] == [ids[2]]
    assert await store.cases.list("other") == []


async def test_precision_counts_moderator_decisions(store: Store) -> None:
    assert (await store.cases.precision("g1", "spam"))["precision"] is None
    statuses = ["removed", "timed_out", "dismissed", "overturned", "open"]
    for i, status in enumerate(statuses):
        case_id = await open_case(store, message_id=f"m{i}")
        if status != "open":
            await store.cases.decide(case_id, status, "mod1")
    assert await store.cases.precision("g1", "spam") == {"confirmed": 2, "dismissed": 2, "precision": 0.5}


async def test_one_appeal_per_case(store: Store, clock: FakeClock) -> None:
    case_id = await open_case(store)
    appeal = await store.appeals.create(case_id, "u1", "it was a joke")
    assert appeal is not None and appeal.status == "pending"
    assert await store.appeals.create(case_id, "u1", "please") is None
    assert await store.appeals.for_case(case_id) == appeal
    assert [a.id for a in await store.appeals.pending("g1")] == [appeal.id]
    assert await store.appeals.count_recent("u1", since=clock.now) == 1
    assert await store.appeals.count_recent("u1", since=clock.now + 1) == 0


async def test_appeal_for_missing_case_is_refused(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.appeals.create(999, "u1", "hello")


async def test_appeal_decision_and_second_opinion(store: Store) -> None:
    case_id = await open_case(store)
    appeal = await store.appeals.create(case_id, "u1", "context was missing")
    assert appeal is not None
    await store.appeals.set_second_opinion(appeal.id, '{"summary": "no violation"}')
    decided = await store.appeals.decide(appeal.id, "overturned", "mod2")
    assert decided.status == "overturned" and decided.decided_by == "mod2"
    assert decided.second_opinion == {"summary": "no violation"}
    assert await store.appeals.pending("g1") == []
