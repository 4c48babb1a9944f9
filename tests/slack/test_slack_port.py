"""The Slack port against the fake Web API: the port contract, and Slack's refusals in plain words."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest

from bot.core.ports import Platform
from bot.platforms.slack.port import SlackPort
from bot.platforms.slack.webapi import make_client
from tests.fakes.slack_server import ADMIN_TOKEN, BOT_TOKEN, BOT_USER, SCOPES, FakeSlack
from tests.port_contract import NOTICE, VIEW, check_port_contract


@dataclass
class SlackHarness:
    fake: FakeSlack
    port: Platform
    mod_channel: str = "C-mods"

    async def card_texts(self) -> list[str]:
        return [
            m["text"] + json.dumps(m["blocks"], ensure_ascii=False)
            for (channel, _ts), m in self.fake.messages.items()
            if channel == self.mod_channel
        ]

    async def deleted(self) -> list[str]:
        return [c.params["ts"] for c in self.fake.found("chat.delete")]

    async def timed_out(self) -> list[str]:
        return []  # Slack has no timeouts; the port does not offer them

    async def dm_texts(self, user_id: str) -> list[str]:
        return [
            m["text"] + json.dumps(m["blocks"], ensure_ascii=False)
            for (channel, _ts), m in self.fake.messages.items()
            if channel == f"D{user_id}"
        ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_channel("C-mods", "mod-queue", {BOT_USER, "U-mia"}, private=True)
        fake.add_channel("C-general", "general", {BOT_USER, "U-sam"})
        fake.messages[("C-general", "M-1")] = {"user": "U-sam", "text": "selling aimbot, dm me", "ts": "M-1"}
        yield fake


def port_for(fake: FakeSlack, admin: bool = True) -> SlackPort:
    base = f"{fake.url}/api/"
    return SlackPort(make_client(BOT_TOKEN, base), make_client(ADMIN_TOKEN, base) if admin else None)


async def test_slack_port_passes_the_port_contract(fake: FakeSlack) -> None:
    port = port_for(fake)
    assert not port.capabilities.can_timeout and port.capabilities.can_delete
    await check_port_contract(SlackHarness(fake, port))
    assert ("C-general", "M-1") not in fake.messages  # deleted with the admin token


async def test_without_an_admin_token_removal_is_by_hand(fake: FakeSlack) -> None:
    port = port_for(fake, admin=False)
    assert not port.capabilities.can_delete
    await check_port_contract(SlackHarness(fake, port))
    refused = await port.delete_message("S1", "C-general", "M-1")
    assert not refused.ok and not refused.retryable and "SLACK_ADMIN_USER_TOKEN" in refused.error
    assert ("C-general", "M-1") in fake.messages and not fake.found("chat.delete")


async def test_a_missing_scope_is_named_and_not_retried(fake: FakeSlack) -> None:
    fake.missing_scope["chat.postMessage"] = "chat:write"
    result = await port_for(fake).post_flag(VIEW, "C-mods")
    assert not result.ok and not result.retryable
    assert "chat:write" in result.error and "reinstall" in result.error


async def test_a_channel_without_the_bot_says_whom_to_invite(fake: FakeSlack) -> None:
    fake.add_channel("C-secret", "secret-mods", {"U-mia"})
    port = port_for(fake)
    result = await port.post_flag(VIEW, "C-secret")
    assert not result.ok and not result.retryable and "/invite @modbot" in result.error
    assert "<#C-secret>" in result.error
    problems = await port.check_setup("T1", "C-secret")
    assert any("C-secret" in p and "invite" in p for p in problems), problems


async def test_a_post_whose_answer_was_lost_is_not_posted_twice(fake: FakeSlack) -> None:
    """chat.postMessage timed out after Slack posted; the outbox retries: still one card."""
    port = port_for(fake)
    fake.lose_answers["chat.postMessage"] = 1
    lost = await port.post_flag(VIEW, "C-mods")
    assert not lost.ok and lost.retryable, lost  # the outbox will try again
    cards = [ts for (channel, ts) in fake.messages if channel == "C-mods"]
    assert len(cards) == 1  # ... although Slack did post it
    again = await port.post_flag(VIEW, "C-mods")
    assert again.ok and again.ref == f"C-mods:{cards[0]}", again
    assert [ts for (channel, ts) in fake.messages if channel == "C-mods"] == cards
    other = await port.post_flag(replace(VIEW, case_id=8), "C-mods")  # another case: a new card
    assert other.ok and other.ref != again.ref
    assert len([1 for (channel, _ts) in fake.messages if channel == "C-mods"]) == 2


async def test_rate_limits_are_waited_out_as_slack_asks(fake: FakeSlack) -> None:
    fake.rate_limited["chat.postMessage"] = [0, 0]  # two 429s with Retry-After: 0
    result = await port_for(fake).dm(NOTICE)
    assert result.ok, result.error
    assert len(fake.found("chat.postMessage")) == 3


async def test_a_long_rate_limit_is_left_to_the_outbox(fake: FakeSlack) -> None:
    fake.rate_limited["chat.postMessage"] = [3600]
    result = await port_for(fake).post_flag(VIEW, "C-mods")
    assert not result.ok and result.retryable and "rate-limited" in result.error
    assert len(fake.found("chat.postMessage")) == 1


async def test_member_text_cannot_forge_mentions_on_a_card(fake: FakeSlack) -> None:
    view = replace(VIEW, excerpt="<!channel> free <https://evil.example|nitro> & more")
    assert (await port_for(fake).post_flag(view, "C-mods")).ok
    shown = json.dumps(fake.found("chat.postMessage")[0].params["blocks"])
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown and "&amp; more" in shown


async def test_setup_check_names_missing_scopes_and_a_missing_admin_token(fake: FakeSlack) -> None:
    fake.scopes = "chat:write,commands,channels:history"
    problems = await port_for(fake, admin=False).check_setup("T1", "C-mods")
    assert any("usergroups:read" in p and "reinstall" in p for p in problems), problems
    assert any("SLACK_ADMIN_USER_TOKEN" in p for p in problems), problems
    fake.scopes = SCOPES
    assert await port_for(fake).check_setup("T1", "C-mods") == []
