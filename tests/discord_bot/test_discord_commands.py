"""/modbot on Discord: the generated commands, their sync, uploads, edits, autocomplete, menus."""

from __future__ import annotations

import re
from typing import Any

from tests.discord_bot.conftest import ADMIN, GENERAL, HELPER, MOD, MODS, SAM, Bot, set_up
from tests.fakes.discord_driver import is_ephemeral, render

BROKEN = "id: game-cheating\nversion: 2\ntitle: x\nrules:\n  - id: GC1\n    txt: oops\n"


def command(bot: Bot, name: str) -> dict:
    return next(c for c in bot.fake.commands if c["name"] == name)


def sub(options: list[dict], name: str) -> dict:
    return next(o for o in options if o["name"] == name)


async def test_commands_mirror_the_catalogue_and_sync_only_when_changed(bot: Bot) -> None:
    await bot.fake.wait_for(lambda: bot.fake.calls("PUT", f"/applications/{bot.fake.app_id}/commands"))
    root = command(bot, "modbot")
    setup = sub(root["options"], "setup")
    assert setup["type"] == 1 and {o["name"]: o["type"] for o in setup["options"]} == {
        "mod_channel": 7, "mod_role": 8,
    }  # fmt: skip
    policy = sub(root["options"], "policy")
    assert policy["type"] == 2
    assert {o["name"] for o in policy["options"]} >= {
        "enable",
        "disable",
        "upload",
        "mode",
        "edit",
        "rollback",
    }
    upload = sub(policy["options"], "upload")
    assert upload["options"][0] == {**upload["options"][0], "name": "file", "type": 11, "required": True}
    enable = sub(policy["options"], "enable")
    assert sub(enable["options"], "policy")["autocomplete"] is True
    assert [c["value"] for c in sub(enable["options"], "mode")["choices"]] == ["live", "shadow"]
    assert command(bot, "Check against policies")["type"] == 3
    assert "show" not in {o["name"] for o in setup.get("options", [])}

    await bot.restart()  # same command set: Discord is asked, not written to again
    gets = f"/applications/{bot.fake.app_id}/commands"
    await bot.fake.wait_for(lambda: len(bot.fake.calls("GET", gets)) >= 2)
    assert len(bot.fake.calls("PUT", gets)) == 1


async def test_setup_without_options_shows_the_setup_and_members_are_refused(bot: Bot) -> None:
    d = bot.driver
    refused = await d.slash(SAM, "setup", GENERAL, mod_channel=MODS)
    assert "admin" in (await d.answered(refused)).lower() and is_ephemeral(refused)
    shown = await d.answered(await d.slash(ADMIN, "setup", GENERAL))
    assert "setup is incomplete" in shown and "mod channel" in shown
    helped = await d.answered(await d.slash(MOD, "help", GENERAL))
    assert "setup (no options: show)" in helped and "setup show" not in helped


async def test_broken_upload_shows_line_numbered_errors_and_the_old_version_keeps_working(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    answer = await d.answered(await d.upload(ADMIN, GENERAL, "game-cheating.yaml", BROKEN))
    assert re.search(r"game-cheating\.yaml:\d+", answer), answer
    await d.say(SAM, GENERAL, "selling aimbot cheap")
    assert "game-cheating" in render(await bot.card("stand-in verdict"))


async def test_policy_autocomplete_offers_policy_ids(bot: Bot) -> None:
    d = bot.driver
    typing = {"name": "policy", "type": 3, "value": "cheat", "focused": True}
    enable = {"name": "enable", "type": 1, "options": [typing]}
    group = {"name": "policy", "type": 2, "options": [enable]}
    data = {"id": "1", "name": "modbot", "type": 1, "options": [group]}
    asked = await d.interact(ADMIN, 4, data, GENERAL)
    await bot.fake.wait_for(lambda: asked.callbacks)
    assert asked.callbacks[0]["type"] == 8
    assert [c["value"] for c in asked.callbacks[0]["data"]["choices"]] == ["game-cheating"]


async def test_policy_edit_opens_a_modal_and_saving_it_uploads(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    opened = await d.slash(ADMIN, "policy edit", GENERAL, policy="game-cheating")
    await bot.fake.wait_for(lambda: opened.callbacks)
    modal = opened.callbacks[0]
    assert modal["type"] == 9, modal
    yaml = modal["data"]["components"][0]["components"][0]["value"]
    assert "id: game-cheating" in yaml
    await bot.restart()  # the form is routed by its custom id, even by a new process
    edited = yaml.replace("title: Game cheating", "title: Cheating in games")
    saved = await d.submit(ADMIN, modal["data"]["custom_id"], {"yaml": edited}, channel_id=GENERAL)
    assert "version 2" in (await d.answered(saved)).lower() or "v2" in await d.answered(saved)


async def test_check_menu_checks_a_message_for_moderators(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    target = await d.say(SAM, GENERAL, "how do I report a cheater")
    data = {"id": "2", "name": "Check against policies", "type": 3, "target_id": target,
            "resolved": {"messages": {target: bot.fake.messages[target]}}}  # fmt: skip
    checked = await d.interact(MOD, 2, data, GENERAL)
    answer = await d.answered(checked)
    assert "game-cheating" in answer and is_ephemeral(checked)


async def test_every_command_answers_within_discords_limits(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    await d.say(SAM, GENERAL, "selling aimbot")
    await bot.card("stand-in verdict")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("policy list", {}), ("policy show", {"policy": "game-cheating"}),
        ("policy history", {"policy": "game-cheating"}), ("policy test", {"policy": "game-cheating"}),
        ("policy mode", {"policy": "game-cheating", "mode": "shadow"}),
        ("policy scope", {"policy": "game-cheating", "exclude": f"<#{MODS}>"}),
        ("policy rollback", {"policy": "game-cheating", "version": 1}),
        ("check", {"text": "selling aimbot"}), ("cases", {}), ("case", {"id": 1}), ("stats", {}),
        ("audit", {}), ("policy disable", {"policy": "game-cheating"}),
    ]  # fmt: skip
    for path, options in calls:
        asked = await d.slash(ADMIN, path, GENERAL, **options)
        answer = await d.answered(asked)
        assert answer and "failed" not in answer and "error was logged" not in answer, (path, answer)
        assert "usage:" not in answer and "⚠" not in answer, (path, answer)
        answers = [r for r in bot.fake.requests if "/webhooks/" in r.path or "/callback" in r.path]
        assert all(r.status < 400 for r in answers), [r for r in answers if r.status >= 400]


async def test_manage_messages_in_one_channel_does_not_make_a_server_moderator(bot: Bot) -> None:
    d = bot.driver
    await set_up(bot)
    helper = await d.answered(await d.slash(HELPER, "cases", GENERAL))
    assert "only moderators" in helper, helper
    moderator = await d.answered(await d.slash(MOD, "cases", GENERAL))
    assert "only moderators" not in moderator, moderator
