"""What must hold when things go wrong: restarts, edits, rate limits, missing permissions."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

import discord
import pytest

from bot.cli.run_cmd import serve
from bot.core.messages import IncomingMessage
from bot.core.pipeline import SubmitResult
from bot.core.views import FlagView
from bot.core.vocab import CardButton
from tests.discord_bot.conftest import ADMIN, GENERAL, MOD, MODS, SAM, Bot, logged_in_port, set_up
from tests.fakes.discord_driver import buttons, render
from tests.fakes.discord_payloads import FakeUser


async def test_card_buttons_still_work_after_a_restart(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bad = await d.say(SAM, GENERAL, "selling aimbot")
    card = await bot.card("stand-in verdict")
    await bot.restart()
    clicked = await d.click(MOD, card["id"], buttons(card)["Remove"])
    await d.answered(clicked)
    await bot.fake.wait_for(lambda: bad in bot.fake.deleted)
    await bot.fake.wait_for(lambda: "removed by" in render(bot.fake.messages[card["id"]]))


async def test_edited_messages_are_checked_again_even_when_not_cached(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    cached = await d.say(SAM, GENERAL, "gg everyone")
    await d.edit(cached, "gg, selling aimbot now")
    assert f"/{cached}" in render(await bot.card(f"/{cached}"))
    # A message from before this process started is not in discord.py's cache: the raw event.
    old = await d.say(SAM, GENERAL, "good game")
    await bot.restart()
    await d.edit(old, "good game, selling aimbot keys")
    assert f"/{old}" in render(await bot.card(f"/{old}"))


async def test_a_message_deleted_before_its_check_is_skipped(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bot.model_open.clear()  # the one model slot is busy with the first message
    first = await d.say(SAM, GENERAL, "selling aimbot, first")
    gone = await d.say(SAM, GENERAL, "selling aimbot, deleted")
    await d.delete(gone)
    last = await d.say(SAM, GENERAL, "selling aimbot, last")
    bot.model_open.set()
    await bot.card(f"/{first}")
    await bot.card(f"/{last}")  # checked after the deleted one would have been
    assert not any(f"/{gone}" in render(c) for c in bot.cards())
    asked = [r for r in bot.ollama.requests if "deleted" in str(r)]
    assert asked == []


async def test_a_dropped_connection_resumes_and_loses_nothing(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    resumes = bot.fake.gateway.resumes
    await bot.fake.gateway.drop()
    missed = await d.say(SAM, GENERAL, "selling aimbot while reconnecting")
    await bot.fake.wait_for(lambda: bot.fake.gateway.resumes > resumes)
    assert f"/{missed}" in render(await bot.card(f"/{missed}"))


async def test_timeout_button_times_the_author_out_and_tells_them(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    await d.say(SAM, GENERAL, "selling aimbot")
    card = await bot.card("stand-in verdict")
    await d.answered(await d.click(MOD, card["id"], buttons(card)["Timeout"]))
    await bot.fake.wait_for(lambda: SAM.id in bot.fake.timeouts)
    assert "timed out" in render(await bot.dm(SAM, "timed out")).lower()


async def test_bots_are_not_checked(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    other_bot = FakeUser("950", "otherbot", bot=True)
    bot.driver.guild.members[other_bot.id] = other_bot
    await d.say(other_bot, GENERAL, "selling aimbot from a bot")
    marker = await d.say(SAM, GENERAL, "selling aimbot, the real one")
    await bot.card(f"/{marker}")
    assert len(bot.cards()) == 1


async def test_a_429_on_the_card_is_retried_and_the_card_posted_once(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bot.fake.rate_limits.append(("POST", f"/channels/{MODS}/messages"))
    await d.say(SAM, GENERAL, "selling aimbot")
    await bot.card("stand-in verdict")
    posts = bot.fake.calls("POST", f"/channels/{MODS}/messages")
    assert [p.status for p in posts] == [429, 200]
    assert len(bot.cards()) == 1


async def test_a_repeated_post_of_a_card_returns_the_same_message(bot: Bot) -> None:
    """The nonce: a post retried after a crash or a timeout finds the card Discord already has."""
    await set_up(bot)
    view = FlagView(1, "100", GENERAL, "1", SAM.id, "sam", "x", "game-cheating", "Game cheating", ("GC1",),
                    "why", "high", 1, "open", buttons=("remove",))  # fmt: skip
    async with logged_in_port(bot.fake) as port:
        first, second = await port.post_flag(view, MODS), await port.post_flag(view, MODS)
    assert first.ok and first.ref == second.ref and len(bot.cards()) == 1
    assert bot.fake.calls("POST", f"/channels/{MODS}/messages")[0].body["enforce_nonce"] is True


async def test_missing_permission_in_the_mod_channel_is_told_to_the_admins(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bot.fake.forbidden.add("send")
    await d.say(SAM, GENERAL, "selling aimbot")
    shown = ""

    async def check() -> bool:
        nonlocal shown
        shown = await d.answered(await d.slash(ADMIN, "setup", GENERAL))
        return "Send Messages" in shown

    await bot.fake.wait_for(lambda: bot.fake.calls("POST", f"/channels/{MODS}/messages"))
    for _ in range(50):
        if await check():
            break
    assert "Send Messages" in shown and f"<#{MODS}>" in shown, shown


async def test_setup_check_names_the_permissions_the_bot_lacks(bot: Bot) -> None:
    d = bot.driver
    bot.driver.guild.bot_permissions = 1 << 10 | 1 << 11  # only View Channel and Send Messages
    await bot.restart()
    answer = await d.answered(await d.slash(ADMIN, "setup", GENERAL, mod_channel=MODS))
    for name in ("Embed Links", "Manage Messages", "Moderate Members"):
        assert name in answer, answer


async def test_closed_dms_are_noted_not_fatal(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    bot.fake.closed_dms.add(SAM.id)
    bad = await d.say(SAM, GENERAL, "selling aimbot")
    card = await bot.card("stand-in verdict")
    await d.answered(await d.click(MOD, card["id"], buttons(card)["Remove"]))
    await bot.fake.wait_for(lambda: bad in bot.fake.deleted)
    await bot.fake.wait_for(lambda: bot.fake.calls("POST", "/users/@me/channels"))
    await bot.fake.wait_for(lambda: "was not told" in render(bot.fake.messages[card["id"]]))  # on the card
    # One member's settings are not a problem of the server's setup.
    shown = await d.answered(await d.slash(ADMIN, "setup", GENERAL))
    assert "direct messages" not in shown and "setup is complete" in shown, shown
    assert bot.task is not None and not bot.task.done()


async def test_shadow_cards_say_so_and_offer_no_punishment(bot: Bot) -> None:
    d = bot.driver
    await d.answered(await d.slash(ADMIN, "setup", GENERAL, mod_channel=MODS))
    await d.answered(await d.slash(ADMIN, "policy enable", GENERAL, policy="game-cheating", mode="shadow"))
    await d.say(SAM, GENERAL, "selling aimbot")
    card = await bot.card("stand-in verdict")
    assert "shadow" in render(card).lower()
    assert not {"Remove", "Timeout"} & set(buttons(card))


async def test_message_content_switched_off_is_said_plainly(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.message_content_flag = False
    with caplog.at_level(logging.ERROR):
        await bot.restart()
        await bot.fake.wait_for(lambda: len(bot.fake.calls("GET", "/oauth2/applications/@me")) >= 2)
        await bot.driver.answered(await bot.driver.slash(ADMIN, "help", GENERAL))
    assert any("Message Content intent is switched off" in r.getMessage() for r in caplog.records)


async def test_the_moderator_role_given_at_setup_can_act(bot: Bot) -> None:
    d = bot.driver
    helper = FakeUser("304", "hal", roles=["777"])  # no Manage Messages, but the mod role
    d.guild.members[helper.id] = helper
    await set_up(bot)
    await d.answered(await d.slash(ADMIN, "setup", GENERAL, mod_role="777"))
    bad = await d.say(SAM, GENERAL, "selling aimbot")
    card = await bot.card("stand-in verdict")
    await d.answered(await d.click(helper, card["id"], buttons(card)["Remove"]))
    await bot.fake.wait_for(lambda: bad in bot.fake.deleted)


async def test_long_texts_are_cut_to_discords_limits(bot: Bot) -> None:
    every: tuple[CardButton, ...] = (
        "remove",
        "dismiss",
        "timeout",
        "escalate",
        "add_example",
        "show_reasoning",
    )
    view = FlagView(2, "100", GENERAL, "1", SAM.id, "sam", "x" * 5000, "game-cheating", "Game cheating " * 30,
                    ("GC1",), "why " * 2000, "high", 1, "open", appeal_id=1, appeal_statement="s" * 3000,
                    buttons=every)  # fmt: skip
    async with logged_in_port(bot.fake) as port:
        posted = await port.post_flag(view, MODS)
    assert posted.ok, posted.error
    assert "why why" in render(bot.fake.messages[posted.ref])


async def test_the_gateway_comes_from_discord_unless_configured(bot: Bot) -> None:
    assert len(bot.fake.calls("GET", "/gateway/bot")) == 1
    bot.gateway_url = f"ws://127.0.0.1:{bot.fake.port}/gateway"
    await bot.restart()
    assert len(bot.fake.calls("GET", "/gateway/bot")) == 1
    assert bot.fake.gateway.identifies == 2


async def test_a_refused_token_is_said_plainly(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    await bot.shutdown()
    bot.token = "wrong-token"
    with caplog.at_level(logging.ERROR), pytest.raises(discord.LoginFailure):
        await serve(bot.settings(), asyncio.Event())
    assert any("check DISCORD_TOKEN" in r.getMessage() for r in caplog.records)


async def test_a_message_the_store_could_not_take_is_retried_not_lost(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.service import ModerationCore

    real_submit = ModerationCore.submit
    failures = ["database is locked"]

    async def flaky(self: ModerationCore, msg: IncomingMessage) -> SubmitResult:
        if failures and "flaky" in msg.text:  # the gateway will never deliver this message again
            raise sqlite3.OperationalError(failures.pop())
        return await real_submit(self, msg)

    monkeypatch.setattr(ModerationCore, "submit", flaky)
    await set_up(bot)
    flagged = await bot.driver.say(SAM, GENERAL, "selling aimbot, flaky storage")
    assert f"/{flagged}" in render(await bot.card(f"/{flagged}"))
    assert failures == []
