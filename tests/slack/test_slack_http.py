"""HTTP mode's guard and a workspace without an admin token, through `modbot run`.

A forged or replayed request gets 401 and nothing else happens; Remove without
SLACK_ADMIN_USER_TOKEN marks the case and the card says to delete the message by hand;
`policy edit` opens the YAML in a modal and saving it makes a new version.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli.run_cmd import serve
from bot.config import Settings
from tests.fakes.slack_server import ADMIN_TOKEN, APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.slack.conftest import GENERAL, MIA, MODS, ROOT, SAM, SECRET, running_bot
from tests.slack.test_slack_flow import actions, model_calls_about, text_of


async def test_forged_and_stale_requests_get_401_and_change_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, "http", admin_token=False) as bot:
        fake, slack = bot.fake, bot.driver
        # Channels given as Slack escapes them (should_escape) or with an empty name.
        setup = await slack.command(ROOT, f"setup <#{MODS}|>")
        assert "setup saved" in setup.text and f"<#{MODS}>" in setup.text, setup
        assert "SLACK_ADMIN_USER_TOKEN" in setup.text  # what the bot lacks, named in the reply
        assert "game-cheating saved" in (await slack.command(ROOT, "policy enable game-cheating")).text

        forged = slack.event_body(
            {"type": "message", "channel": GENERAL, "user": SAM, "text": "forged aimbot", "ts": "1.000001"}
        )
        body = json.dumps(forged)
        assert (await slack.raw_http(body, signature="v0=" + "0" * 64)).status == 401
        stale = int(time.time()) - 600  # signed correctly, ten minutes ago: a replay
        signed = slack.sign(body, stale)
        assert (await slack.raw_http(body, signature=signed, timestamp=stale)).status == 401
        calls_before = len(fake.calls)

        # A real message afterwards is flagged; the forged one never reached the model.
        ts, _ = await slack.say(SAM, GENERAL, "selling aimbot, dm me")
        card = (await fake.wait_for(lambda: fake.found("chat.postMessage", channel=MODS)))[0]
        assert model_calls_about(bot.ollama, "forged aimbot") == 0
        assert not any("forged" in text_of(c) for c in fake.calls[:calls_before])

        # Without an admin token, Remove marks the case; the card says to delete by hand.
        case_id = actions(card.params["blocks"])["modbot.remove"]
        card_ts = next(key[1] for key in fake.messages if key[0] == MODS)
        await slack.click(MIA, "modbot.remove", case_id, MODS, card_ts)
        updated = await fake.wait_for(
            lambda: [c for c in fake.found("chat.update") if f"<@{MIA}>" in text_of(c)]
        )
        shown = text_of(updated[-1])
        assert "by hand" in shown and f"archives/{GENERAL}/p{ts.replace('.', '')}" in shown, shown
        assert not fake.found("chat.delete") and (GENERAL, ts) in fake.messages
        await fake.wait_for(lambda: fake.found("chat.postMessage", channel=f"D{SAM}"))


async def test_policy_edit_opens_the_yaml_and_saves_a_new_version(tmp_path: Path) -> None:
    async with running_bot(tmp_path, "http") as bot:
        fake, slack = bot.fake, bot.driver
        await slack.command(ROOT, "setup #mod-queue")
        await slack.command(ROOT, "policy enable game-cheating")
        refused = await slack.command(SAM, "policy edit game-cheating")
        assert refused.status == 200
        said = await fake.wait_for(lambda: fake.webhooks)
        assert "only server admins" in json.dumps(said[0][1]) and not fake.found("views.open")

        await slack.command(ROOT, "policy edit game-cheating")
        opened = await fake.wait_for(lambda: fake.found("views.open"))
        view = opened[0].params["view"]
        boxes = [b for b in view["blocks"] if b["type"] == "input"]
        yaml_text = "".join(b["element"].get("initial_value", "") for b in boxes)
        assert "title: Game cheating" in yaml_text and len(boxes) >= 2  # over 3000 characters: two boxes
        edited = yaml_text.replace("title: Game cheating", "title: Game cheating (edited)")
        parts = {b["block_id"]: "" for b in boxes}
        parts["yaml-1"], parts["yaml-2"] = edited[:3000], edited[3000:]
        saved = await slack.submit(
            ROOT, view, {block: {"yaml": text} for block, text in parts.items() if text}
        )
        assert saved.body.get("response_action") == "update", saved
        assert "saved as v2" in json.dumps(saved.body), saved

        # A slow command is acknowledged at once; its answer follows through response_url.
        webhooks_before = len(fake.webhooks)
        checked = await slack.command(ROOT, "check selling an <https://aimbot.example|aimbot> here")
        assert "working on it" in checked.text and checked.body.get("response_type") == "ephemeral"
        answer = await fake.wait_for(lambda: fake.webhooks[webhooks_before:])
        assert "game-cheating" in json.dumps(answer[0][1]) and answer[0][1]["response_type"] == "ephemeral"
        assert model_calls_about(bot.ollama, "aimbot (https://aimbot.example)") == 1

        broken = await slack.submit(ROOT, view, {"yaml-1": {"yaml": "title: [unclosed"}})
        assert broken.body.get("response_action") == "errors" and "yaml-1" in broken.body["errors"], broken
        assert not fake.found("chat.postMessage", channel=GENERAL)


async def test_a_user_group_set_up_as_moderators_replaces_the_mod_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(tmp_path, "socket") as bot:
        fake, slack = bot.fake, bot.driver
        # Before a group is set, mod-channel members moderate: mia may look at the setup.
        await slack.command(ROOT, f"setup <#{MODS}|mod-queue>")
        assert "setup is" in (await slack.command(MIA, "setup show")).text
        assert "only moderators" in (await slack.command(SAM, "setup show")).text
        unknown = await slack.command(SAM, "frobnicate now")
        assert "unknown command" in unknown.text and "/modbot help" in unknown.text
        await slack.open_home(SAM)  # a member's App Home says what the core said, plainly
        home = await fake.wait_for(lambda: fake.found("views.publish", user_id=SAM))
        assert "only moderators" in json.dumps(home[0].params["view"])

        fake.usergroups.append({"id": "S0MODS", "handle": "mods", "users": [SAM]})
        await slack.event({"type": "subteam_created", "subteam": {"id": "S0MODS", "handle": "mods"}})
        saved = await slack.command(ROOT, "setup mod_role=<!subteam^S0MODS|@mods>")
        assert "S0MODS" in saved.text, saved
        # The group decides now: sam (in it) moderates, mia (only in the channel) no longer does.
        assert "setup is" in (await slack.command(SAM, "setup show")).text
        assert "only moderators" in (await slack.command(MIA, "setup show")).text
        assert "setup is" in (await slack.command(ROOT, "setup show")).text  # admins always
    for secret in (BOT_TOKEN, APP_TOKEN, ADMIN_TOKEN, SECRET):
        assert secret not in caplog.text


async def test_a_refused_app_token_stops_startup_with_a_plain_message(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_app_token=SecretStr("xapp-revoked"),
            slack_api_base_url=f"{fake.url}/api/",
            database_path=tmp_path / "modbot.db",
        )
        with pytest.raises(SystemExit, match=r"SLACK_APP_TOKEN was refused.*invalid_auth"):
            await serve(settings, asyncio.Event())
        assert fake.connections == 0
