"""A decision is taken once: no reopening a decided case, no second decision of an appeal,
nobody moderating their own message, and a card that waits for a mod channel is not lost."""

from __future__ import annotations

import asyncio

from bot.core.ports import Actor, PlatformResult
from bot.core.views import FlagView
from tests.conftest import POLICY_DIR
from tests.core_flow.conftest import MOD, Env, admin_of, message
from tests.core_flow.test_second_opinions import flag_one, tier2_of
from tests.fakes import FakeOpenAI, Reply, verdict_json

SAM = Actor("sam", "sam", space_id="guild-1")
MOD2 = Actor("max", "max", is_moderator=True, space_id="guild-1")


async def test_a_decided_case_cannot_be_escalated_back_open(env: Env, encoding):
    answer = verdict_json(1, ["GC1"], "high", "sale")
    async with FakeOpenAI(lambda body: Reply(answer), encoding=encoding) as tier2:
        core = await env.start(tier2=tier2_of(tier2.url, encoding))
        case_id = await flag_one(env)
        assert (await core.decide(case_id, MOD, "remove")).ok
        await core.settle()
        stale = await core.decide(case_id, MOD2, "escalate")  # a stale card, or a second moderator
        await core.settle()
        again = await core.decide(case_id, MOD2, "remove")
        await core.settle()
    assert not stale.ok and "only open cases can be escalated" in stale.message
    assert not again.ok and (await env.store.cases.get(case_id)).status == "removed"
    assert env.platform.deleted == ["1"] and [d.kind for d in env.platform.dms] == ["removed"]
    assert tier2.requests == []


async def test_two_moderators_deciding_one_appeal_decide_it_once(env: Env):
    core = await env.start()
    case_id = await flag_one(env)
    await core.decide(case_id, MOD, "remove")
    appeal = (await core.appeal(case_id, SAM, "not me")).appeal
    assert appeal is not None
    await core.settle()
    first, second = await asyncio.gather(
        core.decide_appeal(appeal.id, MOD, "upheld"), core.decide_appeal(appeal.id, MOD2, "overturned")
    )
    await core.settle()
    assert [first.ok, second.ok].count(True) == 1
    loser = second if first.ok else first
    assert "already" in loser.message
    assert [d.kind for d in env.platform.dms].count("removed") == 1
    assert len([d for d in env.platform.dms if d.kind.startswith("appeal_")]) == 1


async def test_a_moderator_cannot_decide_about_their_own_message(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot", author="mia"))  # MOD is "mia"
    await core.settle()
    case = (await env.store.cases.list("guild-1"))[0]
    outcome = await core.decide(case.id, MOD, "dismiss")
    assert not outcome.ok and "another moderator" in outcome.message
    assert (await env.store.cases.get(case.id)).status == "open"
    entry = (await env.store.audit.list("guild-1"))[0]
    assert (entry.actor_id, entry.allowed, entry.detail["reason"]) == ("mia", False, "own message")
    assert (await core.decide(case.id, MOD2, "dismiss")).ok  # another moderator may


async def test_a_flag_raised_before_setup_is_posted_once_setup_names_a_channel(env: Env):
    real_post = env.platform.post_flag

    async def post(view: FlagView, mod_channel_id: str) -> PlatformResult:
        if not mod_channel_id:  # Discord answers 404 Unknown Channel, not worth retrying
            return PlatformResult(False, error="404 Unknown Channel", retryable=False)
        return await real_post(view, mod_channel_id)

    env.platform.post_flag = post  # type: ignore[method-assign]
    core = await env.start()
    await core.ensure_space("guild-1", "test", "g")  # invited, a policy enabled, no setup yet
    text = (POLICY_DIR / "game-cheating.yaml").read_text()
    assert (await core.admin.upload("guild-1", admin_of("guild-1"), text, mode="live")).ok
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    assert env.platform.flags == []
    reply = await core.run_command(
        ("setup",), admin_of("guild-1"), "guild-1", {"mod_channel": "mods"}, "test"
    )
    assert reply.ok
    await core.settle()
    assert [f.message_id for f in env.platform.flags] == ["1"]


async def test_members_get_no_policy_ids_from_autocompletion(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    assert await core.commands.complete(SAM, "guild-1", "game") == []
    assert "game-cheating" in await core.commands.complete(MOD, "guild-1", "game")
