"""Who moderates on Slack: members of the mod channel only while anyone cannot simply join it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.platforms.slack.actors import Directory
from bot.platforms.slack.port import SlackPort
from bot.platforms.slack.webapi import make_client
from tests.fakes.slack_server import ADMIN_TOKEN, BOT_TOKEN, BOT_USER, TEAM, FakeSlack

MIA, SAM = "U-mia", "U-sam"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        fake.add_user(MIA, "mia")
        fake.add_user(SAM, "sam")
        fake.add_channel("C-open", "mods-public", {BOT_USER, MIA})
        fake.add_channel("G-closed", "mods-private", {BOT_USER, MIA}, private=True)
        yield fake


def directory(fake: FakeSlack, mod_channel: str) -> Directory:
    async def channel_of(space_id: str) -> str:
        return mod_channel

    return Directory(make_client(BOT_TOKEN, f"{fake.url}/api/"), channel_of)


async def test_members_of_a_private_mod_channel_are_moderators(fake: FakeSlack) -> None:
    people = directory(fake, "G-closed")
    assert (await people.actor(MIA, TEAM)).is_moderator
    assert not (await people.actor(SAM, TEAM)).is_moderator


async def test_joining_a_public_mod_channel_makes_nobody_a_moderator(fake: FakeSlack) -> None:
    people = directory(fake, "C-open")
    fake.channels["C-open"]["members"].add(SAM)  # anyone may join a public channel
    assert not (await people.actor(SAM, TEAM)).is_moderator
    assert not (await people.actor(MIA, TEAM)).is_moderator
    # Looked up once and kept with the directory's other facts, not on every click.
    assert len(fake.found("conversations.info", channel="C-open")) == 1


async def test_setup_check_says_a_public_mod_channel_lets_anyone_moderate(fake: FakeSlack) -> None:
    base = f"{fake.url}/api/"
    port = SlackPort(make_client(BOT_TOKEN, base), make_client(ADMIN_TOKEN, base))
    problems = await port.check_setup(TEAM, "C-open")
    assert any(
        "#mods-public is public: anyone can join it" in p and "not counted" in p and "mod_role=@group" in p
        for p in problems
    ), problems
    assert await port.check_setup(TEAM, "G-closed") == []
