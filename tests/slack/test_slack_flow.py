"""The whole bot on Slack through `modbot run`, over Socket Mode and over signed HTTP.

Setup and enable by command; a member's message becomes a flag card; a non-moderator's
click is refused privately; a moderator's Remove deletes (admin token) and DMs the author;
the appeal round trip; App Home; a redelivered event costs no second model call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.slack_server import ADMIN_TOKEN, BOT_TOKEN, Call
from tests.slack.conftest import BOB, GENERAL, MIA, MODS, ROOT, SAM, running_bot


def text_of(call: Call) -> str:
    return f"{call.params.get('text', '')}\n{json.dumps(call.params.get('blocks', []), ensure_ascii=False)}"


def actions(blocks: list[dict[str, Any]]) -> dict[str, str]:
    """action_id -> value of every button on a message."""
    return {
        e["action_id"]: e.get("value", "") for b in blocks if b["type"] == "actions" for e in b["elements"]
    }


def model_calls_about(ollama: Any, words: str) -> int:
    """Classifications whose target message (not its context) holds `words`."""
    return sum(words in r["messages"][-1]["content"].split("[TARGET]", 1)[-1] for r in ollama.requests)


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_a_message_is_flagged_removed_appealed_and_overturned(tmp_path: Path, mode: str) -> None:
    async with running_bot(tmp_path, mode) as bot:
        fake, slack = bot.fake, bot.driver

        # Setup and enable, by command; the replies go to the caller only.
        setup = await slack.command(ROOT, "setup #mod-queue")
        assert setup.status == 200 and "setup saved" in setup.text and f"<#{MODS}>" in setup.text, setup
        assert setup.body.get("response_type") == "ephemeral"
        enabled = await slack.command(ROOT, "policy enable game-cheating")
        assert "game-cheating saved as v1 (live)" in enabled.text, enabled
        refused = await slack.command(BOB, "policy disable game-cheating")
        assert "only server admins" in refused.text, refused
        helped = await slack.command(BOB, "help")
        assert "policy enable" not in helped.text and "help" in helped.text, helped

        # A member's message becomes a card in the mod channel.
        ts, delivered = await slack.say(SAM, GENERAL, "selling aimbot, dm me", event_id="Ev-sam-1")
        assert delivered.status == 200
        card = (await fake.wait_for(lambda: fake.found("chat.postMessage", channel=MODS)))[0]
        shown = text_of(card)
        assert "Game cheating" in shown and f"<@{SAM}>" in shown and "selling aimbot" in shown, shown
        assert f"archives/{GENERAL}/p{ts.replace('.', '')}" in shown  # the permalink
        buttons = actions(card.params["blocks"])
        assert set(buttons) == {
            "modbot.remove",
            "modbot.dismiss",
            "modbot.add_example",
            "modbot.show_reasoning",
        }
        case_id = buttons["modbot.remove"]
        card_ts = next(key[1] for key in fake.messages if key[0] == MODS)

        # Slack redelivers the event (it thought the ack was lost): acknowledged, and free.
        event = {
            "type": "message",
            "channel": GENERAL,
            "user": SAM,
            "text": "selling aimbot, dm me",
            "ts": ts,
            "channel_type": "channel",
        }
        again = await slack.event(event, event_id="Ev-sam-1", retry=1)
        assert again.status == 200

        # A non-moderator's click is refused, privately, and nothing is deleted.
        await slack.click(BOB, "modbot.remove", case_id, MODS, card_ts)
        refusal = await fake.wait_for(lambda: fake.found("chat.postEphemeral", user=BOB))
        assert "only moderators" in text_of(refusal[0]), text_of(refusal[0])
        assert not fake.found("chat.delete")

        # A moderator sees the reasoning privately, then removes.
        await slack.click(MIA, "modbot.show_reasoning", case_id, MODS, card_ts)
        reasoning = await fake.wait_for(lambda: fake.found("chat.postEphemeral", user=MIA))
        assert "stand-in verdict" in text_of(reasoning[0])
        await slack.click(MIA, "modbot.remove", case_id, MODS, card_ts)
        deleted = await fake.wait_for(lambda: fake.found("chat.delete", channel=GENERAL, ts=ts))
        assert deleted[0].token == ADMIN_TOKEN and (GENERAL, ts) not in fake.messages
        updated = await fake.wait_for(
            lambda: [c for c in fake.found("chat.update") if f"<@{MIA}>" in text_of(c)]
        )
        assert "removed" in text_of(updated[-1])
        dm = await fake.wait_for(lambda: fake.found("chat.postMessage", channel=f"D{SAM}"))
        assert "No selling" in text_of(dm[0]) or "removed" in text_of(dm[0])
        assert dm[0].token == BOT_TOKEN and "modbot.appeal" in actions(dm[0].params["blocks"])

        # The appeal: a modal, then Uphold / Overturn on the card, then the outcome by DM.
        await slack.click(SAM, "modbot.appeal", case_id, f"D{SAM}", str(dm[0].params.get("ts", "")))
        opened = await fake.wait_for(lambda: fake.found("views.open"))
        modal = opened[-1].params["view"]
        sent = await slack.submit(SAM, modal, {"statement": {"statement": "I was quoting a scam I saw"}})
        assert sent.body.get("response_action") == "update", sent
        appealed = await fake.wait_for(
            lambda: [c for c in fake.found("chat.update") if "modbot.overturn" in actions(c.params["blocks"])]
        )
        assert "I was quoting a scam I saw" in text_of(appealed[-1])
        appeal_id = actions(appealed[-1].params["blocks"])["modbot.overturn"]
        await slack.click(MIA, "modbot.overturn", appeal_id, MODS, card_ts)
        outcome = await fake.wait_for(
            lambda: [c for c in fake.found("chat.postMessage", channel=f"D{SAM}") if "accepted" in text_of(c)]
        )
        assert "modbot.appeal" not in actions(outcome[0].params["blocks"])

        # App Home shows the workspace's policies and modes.
        await slack.open_home(ROOT)
        home = await fake.wait_for(lambda: fake.found("views.publish", user_id=ROOT))
        assert "game-cheating" in json.dumps(home[0].params["view"]) and "live" in json.dumps(
            home[0].params["view"]
        )

        # The redelivered event was classified once (a later message proves the queue moved on).
        await slack.say(BOB, GENERAL, "anyone got an aimbot for sale?")
        await fake.wait_for(lambda: len(fake.found("chat.postMessage", channel=MODS)) >= 2)
        assert model_calls_about(bot.ollama, "selling aimbot") == 1
        # ... and the later message was classified with it as context, under the author's name.
        # (The startup checks classify a harmless text too, at any moment: pick the later message's call.)
        prompts = [r["messages"][-1]["content"] for r in bot.ollama.requests]
        later = next(p for p in reversed(prompts) if "anyone got an aimbot" in p).split("[TARGET]", 1)[0]
        assert "selling aimbot" in later and "sam" in later, later
