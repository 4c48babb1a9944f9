"""A member who cannot be told (closed DMs) is noted on the case's card, not lost in a log."""

from __future__ import annotations

from tests.core_flow.conftest import MOD, Env, message


async def test_a_refused_dm_is_shown_on_the_card(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    env.platform.refuse["dm"] = "sam does not accept direct messages"
    await core.submit(message(1, "selling aimbot", author="sam"))
    await core.settle()
    case_id = (await env.store.cases.list("guild-1"))[0].id
    assert (await core.decide(case_id, MOD, "remove")).ok
    await core.settle()
    assert env.platform.dms == []
    assert "not told: sam does not accept direct messages" in env.platform.latest(case_id).notice
