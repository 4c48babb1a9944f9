"""End to end through the core: what moderators and members see, and that nothing is lost."""

from __future__ import annotations

import asyncio

from tests.conftest import POLICY_DIR
from tests.core_flow.conftest import ADMIN, MOD, Env, message
from tests.fakes import Reply, verdict_json


async def test_violation_becomes_one_flag_with_the_rationale(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot, dm me"))
    await core.submit(message(2, "gg, nice round"))
    await core.settle()
    assert len(env.platform.flags) == 1
    flag = env.platform.flags[0]
    assert flag.message_id == "1" and flag.policy_id == "game-cheating"
    assert flag.rationale == "stand-in verdict" and flag.rule_ids == ("GC1",)
    assert flag.status == "open" and "remove" in flag.buttons
    # Only the prefilter's candidate reached the GPU.
    assert len(env.fake.requests) == 1


async def test_duplicate_delivery_costs_nothing_and_flags_once(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    results = [await core.submit(message(7, "selling aimbot")) for _ in range(3)]
    await core.settle()
    assert [r.queued for r in results] == [1, 0, 0]
    assert len(env.fake.requests) == 1 and len(env.platform.flags) == 1


async def test_edited_message_is_checked_again_without_a_second_flag(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    await core.submit(message(8, "selling aimbot"))
    await core.settle()
    edited = message(8, "selling aimbot, now with esp")
    assert (await core.submit(edited)).queued == 1
    await core.settle()
    assert len(env.fake.requests) == 2  # the new text was classified
    assert len(env.platform.flags) == 1  # but the message is flagged once under this policy


async def test_flood_of_one_text_costs_one_model_call(env: Env):
    env.fake.responder = lambda body: Reply(verdict_json(1, ["SC1"]), delay_s=0.05)
    core = await env.start(workers=2)
    await env.install("guild-1", "scams-phishing")
    for i in range(60):
        text = (
            "FREE NITRO https://dlscord-nitro.com/claim"
            if i % 2
            else "free nitro https://dlscord-nitro.com/claim"
        )
        await core.submit(message(f"f{i}", text, author=f"bot{i}"))
    await core.settle()
    assert len(env.fake.requests) == 1
    cases = await env.store.cases.list("guild-1", limit=500)
    assert len(cases) == 60 and len(env.platform.flags) == 60  # every copy is still flagged


async def test_shadow_mode_shows_a_card_that_cannot_punish(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating", mode="shadow")
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    stored = await env.store.verdicts.for_message("guild-1", "1")
    assert len(stored) == 1 and stored[0].violation and stored[0].shadow
    card = env.platform.flags[0]
    assert card.shadow and "shadow mode" in card.notice
    assert not {"remove", "timeout"} & set(card.buttons) and "dismiss" in card.buttons
    refused = await core.decide(card.case_id, MOD, "remove")
    await core.settle()
    assert not refused.ok and "shadow mode" in refused.message
    assert env.platform.deleted == [] and env.platform.dms == []


async def test_model_outage_keeps_messages_on_disk_and_drains_when_it_returns(env: Env):
    env.fake.responder = lambda body: Reply(status=503, error="server busy")
    core = await env.start()
    core.pipeline.settings = type(core.pipeline.settings)(backoff_base_s=0.05, backoff_max_s=0.2)
    core.pipeline.breaker.base_cooldown_s = 0.1
    await env.install("guild-1", "game-cheating")
    for i in range(5):
        await core.submit(message(i, f"selling aimbot number {i}"))
    async with asyncio.timeout(10):  # the outage is noticed: the breaker opens
        while core.pipeline.breaker.opened_count < 1:
            await asyncio.sleep(0.02)
    counts = await env.store.inbox.counts()
    assert counts["pending"] + counts["leased"] == 5 and counts["done"] == 0
    assert env.platform.flags == []  # nobody is punished on a model that did not answer
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"]))
    await core.settle(timeout_s=20)
    assert (await env.store.inbox.counts())["done"] == 5
    assert sorted(f.message_id for f in env.platform.flags) == ["0", "1", "2", "3", "4"]


async def test_unparseable_answers_are_never_flags(env: Env):
    env.fake.responder = lambda body: Reply("I think it's probably bad?")
    core = await env.start()
    core.pipeline.settings = type(core.pipeline.settings)(backoff_base_s=0.01, max_attempts_bad_output=2)
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot"))
    await core.settle(timeout_s=10)
    assert (await env.store.inbox.counts())["failed"] == 1  # kept, visible, never a verdict
    assert env.platform.flags == [] and await env.store.verdicts.for_message("guild-1", "1") == []


async def test_failed_flag_post_is_retried_not_lost(env: Env):
    env.platform.fail_posts = 2
    core = await env.start()
    core.outbox.retry_base_s = 0.05
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    for _ in range(100):
        if env.platform.flags:
            break
        await asyncio.sleep(0.05)
    assert len(env.platform.flags) == 1
    case = (await env.store.cases.list("guild-1"))[0]
    assert case.flag_ref == "card-1"


async def test_restart_finishes_pending_work_without_duplicate_flags(env: Env):
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"]), delay_s=0.3)
    env.platform.honours_nonce = False  # a double post by the core itself would show
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    for i in range(4):
        await core.submit(message(i, f"selling aimbot {i}"))
    while not env.platform.flags:
        await asyncio.sleep(0.02)
    await env.stop()  # abrupt: workers cancelled mid-call, leases left behind
    first_run = list(env.platform.flags)
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"]))
    core = await env.start()
    await core.settle()
    ids = [f.message_id for f in env.platform.flags]
    assert sorted(ids) == ["0", "1", "2", "3"], ids
    assert len(first_run) >= 1


async def test_flood_in_one_space_does_not_starve_another(env: Env):
    everything_queued = asyncio.Event()

    async def gated(body: dict) -> Reply:
        await everything_queued.wait()  # the GPU is busy until both floods are queued
        return Reply(verdict_json(0), delay_s=0.005)

    env.fake.responder = gated
    core = await env.start()
    await env.install("noisy", "game-cheating", budget_per_minute=100_000)
    await env.install("quiet", "game-cheating", budget_per_minute=100_000)
    for i in range(80):
        await core.submit(message(f"n{i}", f"aimbot spam {i}", space="noisy"))
    for i in range(3):
        await core.submit(message(f"q{i}", f"is aimbot legit {i}", space="quiet"))
    everything_queued.set()
    await core.settle(timeout_s=30)
    order = [r["messages"][-1]["content"] for r in env.fake.requests]
    quiet_positions = [n for n, text in enumerate(order) if "is aimbot legit" in text]
    # Round-robin: the quiet space's three messages go out among the first few calls.
    # Round-robin: every other call goes to the quiet space, not after the 80-message flood.
    assert quiet_positions[-1] <= 7, quiet_positions


async def test_moderator_remove_deletes_dms_and_updates_the_card(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    await core.submit(message(1, "selling aimbot", author="sam"))
    await core.settle()
    case = (await env.store.cases.list("guild-1"))[0]
    outcome = await core.decide(case.id, MOD, "remove")
    await core.settle()
    assert outcome.ok
    assert env.platform.deleted == ["1"]
    dm = env.platform.dms[0]
    assert dm.user_id == "sam" and dm.can_appeal and f"#{case.id}" in dm.text
    assert "stand-in verdict" not in dm.text  # the model's words stay with the moderators
    assert env.platform.updates[-1][1].status == "removed"
    again = await core.decide(case.id, MOD, "dismiss")
    assert not again.ok and "already removed" in again.message


async def test_policy_channel_scope(env: Env):
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    await env.store.policies.set_channels("guild-1", "game-cheating", ["trading"], "root")
    core.book.invalidate("guild-1")
    await core.submit(message(1, "selling aimbot", channel="general"))
    await core.submit(message(2, "selling aimbot!", channel="trading"))
    await core.settle()
    assert [f.message_id for f in env.platform.flags] == ["2"]


async def test_automatic_action_needs_policy_space_and_high_confidence(env: Env):
    core = await env.start()
    text = (POLICY_DIR / "game-cheating.yaml").read_text().replace("kind: flag", "kind: delete")
    assert "kind: delete" in text
    await core.ensure_space("guild-1", "test", "g", mod_channel_id="mods", auto_actions=True)
    assert (await core.admin.upload("guild-1", ADMIN, text, mode="live")).ok
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"], "high", "sells a cheat"))
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"], "medium", "maybe"))
    await core.submit(message(2, "buying aimbot"))
    await core.settle()
    assert env.platform.deleted == ["1"]  # the medium-confidence one waits for a human
    assert [c.status for c in await env.store.cases.list("guild-1")] == ["open", "removed"]
    assert env.platform.dms and env.platform.dms[0].user_id == "sam"
    await core.ensure_space("guild-1", "test", "g", auto_actions=False)
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"], "high", "sells"))
    await core.submit(message(3, "selling aimbot cheap"))
    await core.settle()
    assert env.platform.deleted == ["1"]  # the space turned automatic actions off


async def test_cache_respects_context(env: Env):
    import dataclasses

    from bot.core.messages import ContextLine

    core = await env.start()
    await env.install("guild-1", "game-cheating")
    first = message(1, "aimbot? dm me")
    second = message(2, "aimbot? dm me")
    other = dataclasses.replace(
        message(3, "aimbot? dm me"), context=(ContextLine("ann", "how do I report an aimbot user"),)
    )
    for m in (first, second, other):
        await core.submit(m)
    await core.settle()
    assert len(env.fake.requests) == 2  # the copy shares an answer; a new context asks again


async def test_cards_for_a_platform_this_process_does_not_serve_wait_for_it(env: Env):
    import dataclasses

    core = await env.start()
    await core.ensure_space("team-1", "slack", "team", mod_channel_id="C-mods")
    result = await core.admin.upload(
        "team-1", ADMIN.__class__("root", is_admin=True, space_id="team-1"),
        (POLICY_DIR / "game-cheating.yaml").read_text(), mode="live",
    )  # fmt: skip
    assert result.ok
    await core.submit(dataclasses.replace(message(1, "selling aimbot", space="team-1"), platform="slack"))
    await core.settle()
    assert env.platform.flags == []  # not posted on another platform, and not given up either
    waiting = await env.store.outbox.due(float("inf"))
    assert [(i.kind, i.status, i.last_error) for i in waiting] == [
        ("post_flag", "pending", "slack is not connected")
    ]
