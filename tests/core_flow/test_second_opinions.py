"""Second opinions cost one call to the larger model, go through the durable inbox, and
only moderators may ask for them; the prompt carries as much context as the policy asks."""

from __future__ import annotations

import dataclasses

from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.messages import ContextLine
from bot.core.ports import Actor
from tests.core_flow.conftest import MOD, Env, message
from tests.fakes import FakeOpenAI, Reply, verdict_json

SAM = Actor("sam", "sam", space_id="guild-1")


def tier2_of(url: str, encoding) -> OpenAICompatTier:
    return OpenAICompatTier(OpenAISettings(base_url=url, timeout_s=5), HarmonyCodec(encoding))


async def flag_one(env: Env) -> int:
    await env.install("guild-1", "game-cheating")
    await env.core.submit(message(1, "selling aimbot", author="sam"))
    await env.core.settle()
    return (await env.store.cases.list("guild-1"))[0].id


async def test_escalating_a_stored_verdict_calls_only_the_larger_model_once(env: Env, encoding):
    answer = verdict_json(1, ["GC1"], "high", "Clear sale of a cheat.")
    async with FakeOpenAI(lambda body: Reply(answer), encoding=encoding) as tier2:
        core = await env.start(tier2=tier2_of(tier2.url, encoding))
        case_id = await flag_one(env)
        tier1_before = len(env.fake.requests)
        assert (await core.decide(case_id, MOD, "escalate")).ok
        await core.settle()
    assert len(env.fake.requests) == tier1_before  # the 20b is not asked again
    assert len(tier2.requests) == 1
    stored = await env.store.verdicts.for_message("guild-1", "1")
    assert [v.tier for v in stored] == [1, 2] and stored[1].previous["tier"] == 1


async def test_an_appeal_second_opinion_waits_in_the_inbox_across_a_restart(env: Env, encoding):
    answer = verdict_json(0, [], "high", "Quoting the seller to warn others.")
    async with FakeOpenAI(lambda body: Reply(answer), encoding=encoding) as tier2:
        core = await env.start(tier2=tier2_of(tier2.url, encoding))
        case_id = await flag_one(env)
        await core.stop()  # nothing runs the queue now: the request must be on disk
        result = await core.appeal(case_id, SAM, "I was warning people about him")
        assert result.ok
        pending = [j for j in await env.store.inbox.pending() if j.escalate]
        assert len(pending) == 1 and pending[0].match_reason == "appeal"
        await env.stop()
        core = await env.start(tier2=tier2_of(tier2.url, encoding))
        await core.settle()
    appeal = await env.store.appeals.for_case(case_id)
    assert "Quoting the seller to warn others." in appeal.second_opinion["summary"]
    assert "I was warning people about him" in tier2.requests[-1]["messages"][-1]["content"]
    assert len(tier2.requests) == 1
    assert "no violation" in env.platform.latest(case_id).second_opinion


async def test_a_members_escalation_is_refused_for_the_role_and_audited(env: Env):
    core = await env.start()  # no larger model either: the role is checked first
    case_id = await flag_one(env)
    outcome = await core.decide(case_id, SAM, "escalate")
    assert not outcome.ok and outcome.message == "only moderators can act on flags"
    entry = (await env.store.audit.list("guild-1"))[0]
    assert (entry.actor_id, entry.action, entry.allowed) == ("sam", "case.escalate", False)


async def test_the_prompt_carries_as_many_context_lines_as_the_policy_asks(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")  # context_messages: 3
    lines = tuple(ContextLine(f"u{i}", f"earlier line number {i}") for i in range(10))
    await core.submit(dataclasses.replace(message(1, "selling aimbot"), context=lines))
    await core.settle()
    sent = env.fake.requests[-1]["messages"][-1]["content"]
    assert [i for i in range(10) if f"earlier line number {i}" in sent] == [7, 8, 9]
