"""Space settings: created on first sight, changed only where asked, unknown keys refused."""

from __future__ import annotations

import pytest

from bot.store import Store
from tests.store._helpers import T0


async def test_upsert_creates_with_defaults_then_updates_given_settings(store: Store) -> None:
    space = await store.spaces.upsert("g1", "discord", "Guild")
    assert (space.name, space.retention_days, space.notify_members, space.auto_actions) == (
        "Guild",
        30,
        True,
        False,
    )
    assert space.created_at == T0
    space = await store.spaces.upsert("g1", "discord", mod_channel_id="c9")
    assert (space.name, space.mod_channel_id) == ("Guild", "c9")  # the name was not given: kept
    space = await store.spaces.update("g1", auto_actions=True, budget_per_minute=10)
    assert (space.mod_channel_id, space.auto_actions, space.budget_per_minute) == ("c9", True, 10)
    assert [s.id for s in await store.spaces.list()] == ["g1"]


async def test_invalid_settings_are_refused(store: Store) -> None:
    await store.spaces.upsert("g1", "discord")
    with pytest.raises(ValueError, match="unknown space setting"):
        await store.spaces.update("g1", retention="5")
    with pytest.raises(ValueError):
        await store.spaces.update("g1", retention_days="5")
    with pytest.raises(ValueError):
        await store.spaces.update("g1", retention_days=-1)
    with pytest.raises(KeyError):
        await store.spaces.update("nope", retention_days=5)
    assert await store.spaces.get("nope") is None
