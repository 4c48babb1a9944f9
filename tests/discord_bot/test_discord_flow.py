"""The whole bot on Discord, as admins, moderators and members use it."""

from __future__ import annotations

from tests.discord_bot.conftest import EVE, GENERAL, MOD, MODS, SAM, Bot, set_up
from tests.fakes.discord_driver import buttons, is_ephemeral, render


async def test_flag_remove_appeal_overturn(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bad = await d.say(SAM, GENERAL, "selling aimbot, dm me")
    card = await bot.card("stand-in verdict")
    text = render(card)
    assert "game-cheating" in text and "GC1" in text and "high" in text and f"<@{SAM.id}>" in text
    assert f"/{GENERAL}/{bad}" in text  # the jump link
    labels = buttons(card)
    assert {"Remove", "Dismiss", "Timeout", "Add as example", "Show reasoning"} <= set(labels), labels

    refused = await d.click(EVE, card["id"], labels["Remove"])
    assert "only moderators" in await d.answered(refused) and is_ephemeral(refused)
    assert bad not in bot.fake.deleted

    removed = await d.click(MOD, card["id"], labels["Remove"])
    await d.answered(removed)
    await bot.fake.wait_for(lambda: bad in bot.fake.deleted)
    dm = await bot.dm(SAM, "removed")
    assert "appeal" in render(dm).lower()
    await bot.fake.wait_for(lambda: f"by <@{MOD.id}>" in render(bot.fake.messages[card["id"]]))

    form = await d.click(SAM, dm["id"], buttons(dm)["Appeal"], dm=True)
    await bot.fake.wait_for(lambda: form.callbacks)
    assert form.callbacks[0]["type"] == 9  # a modal
    modal_id = form.callbacks[0]["data"]["custom_id"]
    sent = await d.submit(SAM, modal_id, {"statement": "I was quoting the seller to warn people"}, dm=True)
    assert "appeal was sent" in await d.answered(sent)

    await bot.fake.wait_for(lambda: "quoting the seller" in render(bot.fake.messages[card["id"]]))
    updated = bot.fake.messages[card["id"]]
    overturn = await d.click(MOD, card["id"], buttons(updated)["Overturn"])
    assert "overturned" in await d.answered(overturn)
    told = await bot.dm(SAM, "accepted")
    assert "overturned" in render(told)


async def test_the_model_sees_the_channels_recent_messages_as_context(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    await d.say(EVE, GENERAL, "anyone know where to get a ranked boost?")
    await d.say(MOD, MODS, "mods-only chatter")
    await d.say(SAM, GENERAL, "selling aimbot, dm me")
    await bot.card("stand-in verdict")
    # The startup checks also classify a harmless text (beside intake): pick the target's call.
    prompts = [r["messages"][-1]["content"] for r in bot.ollama.requests]
    prompt = next(p for p in reversed(prompts) if "selling aimbot" in p)
    context, target = prompt.split("[TARGET]", 1)
    assert "ranked boost" in context and "eve" in context
    assert "mods-only" not in prompt and "selling aimbot" in target
