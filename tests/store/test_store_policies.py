"""Policy texts are versioned per space; a rollback is a new version, so history only grows."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.store._helpers import FakeClock


async def test_versions_and_rollback(store: Store, clock: FakeClock) -> None:
    v1 = await store.policies.save_version("g1", "spam", "text: one", "h1", "admin", note="first")
    assert (v1.version, v1.mode, v1.channels) == (1, "shadow", ())
    await store.policies.set_mode("g1", "spam", "live", "admin")
    await store.policies.set_channels("g1", "spam", ["c2", "c1"], "admin")
    clock.advance(10)
    v2 = await store.policies.save_version("g1", "spam", "text: two", "h2", "admin2")
    assert (v2.version, v2.yaml_text, v2.mode, v2.channels) == (2, "text: two", "live", ("c1", "c2"))
    assert v2.updated_by == "admin2" and v2.updated_at == clock.now

    back = await store.policies.rollback("g1", "spam", 1, "admin")
    assert (back.version, back.yaml_text, back.content_hash, back.mode) == (3, "text: one", "h1", "live")
    history = await store.policies.history("g1", "spam")
    assert [(h.version, h.content_hash, h.note) for h in history] == [
        (3, "h1", "rollback to v1"),
        (2, "h2", ""),
        (1, "h1", "first"),
    ]
    assert await store.policies.get("g1", "spam") == back


async def test_rollback_to_unknown_version_changes_nothing(store: Store) -> None:
    await store.policies.save_version("g1", "spam", "text: one", "h1", "admin")
    with pytest.raises(KeyError):
        await store.policies.rollback("g1", "spam", 7, "admin")
    assert [h.version for h in await store.policies.history("g1", "spam")] == [1]


async def test_enabled_excludes_removed_policies(store: Store) -> None:
    await store.policies.save_version("g1", "spam", "a", "h1", "admin", mode="live")
    await store.policies.save_version("g1", "scam", "b", "h2", "admin")
    await store.policies.save_version("g2", "spam", "c", "h3", "admin")
    assert [p.policy_id for p in await store.policies.enabled("g1")] == ["scam", "spam"]
    await store.policies.remove("g1", "spam", "admin")
    assert [p.policy_id for p in await store.policies.enabled("g1")] == ["scam"]
    assert len(await store.policies.all_current()) == 3
    # a removed policy comes back with its history, still off until switched on
    again = await store.policies.save_version("g1", "spam", "a2", "h4", "admin")
    assert (again.version, again.mode) == (2, "off")


async def test_bad_mode_and_missing_policy(store: Store) -> None:
    with pytest.raises(ValueError, match="unknown policy mode"):
        await store.policies.save_version("g1", "spam", "a", "h1", "admin", mode="loud")
    with pytest.raises(KeyError):
        await store.policies.set_mode("g1", "nothing", "live", "admin")
    assert await store.policies.get("g1", "spam") is None
