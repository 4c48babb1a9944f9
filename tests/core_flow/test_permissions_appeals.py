"""Only the right people act: moderators moderate, members appeal only their own case."""

from __future__ import annotations

import json

from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.ports import Actor
from tests.core_flow.conftest import ADMIN, MOD, Env, message
from tests.fakes import FakeOpenAI, Reply, verdict_json

SAM = Actor("sam", "sam", space_id="guild-1")  # the author of the flagged message
EVE = Actor("eve", "eve", space_id="guild-1")  # another member


async def flagged_case(env: Env) -> int:
    core = env.core
    assert core is not None
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot", author="sam"))
    await core.settle()
    cases = await env.store.cases.list("guild-1")
    assert len(cases) == 1
    return cases[0].id


async def test_member_cannot_act_on_flags_and_the_attempt_is_audited(env: Env):
    await env.start()
    case_id = await flagged_case(env)
    outcome = await env.core.decide(case_id, EVE, "remove")
    assert not outcome.ok and "only moderators" in outcome.message
    assert env.platform.deleted == []
    assert (await env.store.cases.get(case_id)).status == "open"
    entry = (await env.store.audit.list("guild-1"))[0]
    assert (entry.actor_id, entry.action, entry.allowed) == ("eve", "case.remove", False)


async def test_appeal_on_someone_elses_case_is_refused_and_audited(env: Env):
    await env.start()
    case_id = await flagged_case(env)
    result = await env.core.appeal(case_id, EVE, "he did nothing wrong")
    assert not result.ok and "your own messages" in result.message
    assert await env.store.appeals.for_case(case_id) is None
    entry = (await env.store.audit.list("guild-1"))[0]
    assert (entry.actor_id, entry.action, entry.allowed) == ("eve", "appeal.create", False)


async def test_member_appeals_once_moderator_decides_member_is_told(env: Env):
    await env.start()
    case_id = await flagged_case(env)
    await env.core.decide(case_id, MOD, "remove")
    first = await env.core.appeal(case_id, SAM, "I was quoting the scammer to warn people")
    second = await env.core.appeal(case_id, SAM, "please")
    await env.core.settle()
    assert first.ok and not second.ok and "once" in second.message
    card = env.platform.updates[-1][1]
    assert card.appeal_statement == "I was quoting the scammer to warn people"
    # Without a tier 2 the moderators are told plainly there is no second opinion... or its answer.
    decided = await env.core.decide_appeal(first.appeal.id, SAM, "overturned")
    assert not decided.ok  # members cannot decide their own appeal
    decided = await env.core.decide_appeal(first.appeal.id, MOD, "overturned")
    await env.core.settle()
    assert decided.ok
    assert (await env.store.cases.get(case_id)).status == "overturned"
    last_dm = env.platform.dms[-1]
    assert last_dm.user_id == "sam" and "overturned" in last_dm.text and not last_dm.can_appeal


async def test_appeals_are_rate_limited(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    for i in range(5):
        await core.submit(message(i, f"selling aimbot {i}", author="sam"))
    await core.settle()
    cases = await env.store.cases.list("guild-1")
    results = [await core.appeal(c.id, SAM, "not me") for c in cases]
    assert [r.ok for r in results] == [True, True, True, False, False]
    assert "too many appeals" in results[-1].message


async def test_appeal_gets_a_tier2_second_opinion_with_the_statement(env: Env, encoding):
    opinion = verdict_json(0, [], "high", "Quoting a scam to warn others is allowed.")
    async with FakeOpenAI(lambda body: Reply(opinion, thinking="context"), encoding=encoding) as tier2:
        core = await env.start(
            tier2=OpenAICompatTier(OpenAISettings(base_url=tier2.url, timeout_s=5), HarmonyCodec(encoding))
        )
        case_id = await flagged_case(env)
        result = await core.appeal(case_id, SAM, "I was warning people about this seller")
        await core.settle()
    appeal = await env.store.appeals.get(result.appeal.id)
    assert "Quoting a scam to warn others is allowed." in appeal.second_opinion["summary"]
    sent = tier2.requests[-1]["messages"][-1]["content"]
    assert "I was warning people about this seller" in sent
    card = env.platform.updates[-1][1]
    assert "no violation" in card.second_opinion
    assert json.dumps(appeal.second_opinion)  # stored for moderators


async def test_moderator_escalation_asks_tier2_and_refreshes_the_card(env: Env, encoding):
    second = verdict_json(1, ["GC1"], "high", "Clear sale of a cheat.")
    async with FakeOpenAI(lambda body: Reply(second), encoding=encoding) as tier2:
        core = await env.start(
            tier2=OpenAICompatTier(OpenAISettings(base_url=tier2.url, timeout_s=5), HarmonyCodec(encoding))
        )
        case_id = await flagged_case(env)
        outcome = await core.decide(case_id, MOD, "escalate")
        await core.settle()
    assert outcome.ok and len(tier2.requests) == 1
    assert (await env.store.cases.get(case_id)).status == "open"
    assert "Clear sale of a cheat." in env.platform.updates[-1][1].second_opinion


async def test_admin_upload_of_a_broken_policy_keeps_the_old_version(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    broken = "id: game-cheating\nversion: 2\ntitle: x\n"
    result = await core.admin.upload("guild-1", ADMIN, broken, source="edit.yaml")
    assert not result.ok and "edit.yaml:" in result.message
    current = await env.store.policies.get("guild-1", "game-cheating")
    assert current.version == 1
    await core.submit(message(3, "selling aimbot"))
    await core.settle()
    assert len(env.platform.flags) == 1  # the old version keeps running
    refused = await core.admin.set_mode("guild-1", MOD, "game-cheating", "off")
    assert not refused.ok


async def test_dismissals_feed_policy_precision(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    for i in range(4):
        await core.submit(message(i, f"selling aimbot {i}"))
    await core.settle()
    cases = await env.store.cases.list("guild-1")
    for case, action in zip(cases, ["remove", "remove", "remove", "dismiss"], strict=True):
        assert (await core.decide(case.id, MOD, action)).ok
    figures = await env.store.cases.precision("guild-1", "game-cheating")
    assert figures["confirmed"] == 3 and figures["dismissed"] == 1
    assert figures["precision"] == 0.75


async def test_moderator_adds_a_confirmed_case_to_the_policy_examples(env: Env):
    core = await env.start()
    case_id = await flagged_case(env)
    outcome = await core.decide(case_id, MOD, "add_example")
    assert outcome.ok, outcome.message
    history = await env.store.policies.history("guild-1", "game-cheating")
    assert [v.version for v in history] == [2, 1]  # a new version; the old one stays in history
    policy = (await core.book.active("guild-1"))[0].policy
    assert policy.spec.examples[-1].text == "selling aimbot"
    assert policy.spec.examples[-1].label == "violation"
    again = await core.decide(case_id, MOD, "add_example")
    assert not again.ok and "already an example" in again.message
    member = await core.decide(case_id, SAM, "add_example")
    assert not member.ok


async def test_escalation_without_a_larger_model_says_so(env: Env):
    core = await env.start()
    case_id = await flagged_case(env)
    outcome = await core.decide(case_id, MOD, "escalate")
    assert not outcome.ok and "ESCALATION_URL" in outcome.message
    assert (await env.store.cases.get(case_id)).status == "open"
