"""modbot run's own startup against a fake Discord and a fake Ollama, both on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
from pydantic import SecretStr

from bot.cli.run_cmd import serve
from bot.config import Settings
from bot.platforms.discord.connection import DiscordSettings, ModbotClient
from bot.platforms.discord.port import DiscordPort
from tests.core_flow.conftest import stand_in
from tests.fakes import FakeOllama
from tests.fakes.discord_driver import Driver, render
from tests.fakes.discord_payloads import (
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MEMBER_PERMISSIONS,
    FakeGuild,
    FakeUser,
)
from tests.fakes.discord_server import FakeDiscord

GUILD, GENERAL, MODS = "100", "200", "201"
ADMIN = FakeUser("300", "ada", MEMBER_PERMISSIONS | MANAGE_GUILD | MANAGE_MESSAGES)
MOD = FakeUser("301", "mia", MEMBER_PERMISSIONS | MANAGE_MESSAGES)
# Manage Messages from one channel's overwrite only: a helper there, not a moderator of the server.
HELPER = FakeUser("305", "cal", MEMBER_PERMISSIONS | MANAGE_MESSAGES, channel_only=True)
SAM = FakeUser("302", "sam")  # writes the violating message
EVE = FakeUser("303", "eve")  # another member


@dataclass
class Bot:
    """One `modbot run` (serve) against the fakes; `restart` stops it and starts a new one."""

    fake: FakeDiscord
    ollama: FakeOllama
    db: Path
    driver: Driver
    model_open: asyncio.Event
    token: str = "fake-token"
    gateway_url: str = ""  # DISCORD_GATEWAY_URL; empty: the bot asks GET /gateway/bot
    task: asyncio.Task[int] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    def settings(self) -> Settings:
        return Settings(
            discord_token=SecretStr(self.token), discord_api_base_url=self.fake.api, database_path=self.db,
            ollama_host=self.ollama.url, slack_bot_token=SecretStr(""), discord_gateway_url=self.gateway_url,
        )  # fmt: skip

    async def start(self) -> None:
        self.stop = asyncio.Event()
        self.fake.gateway.identified.clear()
        self.task = asyncio.create_task(serve(self.settings(), self.stop))
        ready = asyncio.create_task(self.fake.gateway.identified.wait())
        await asyncio.wait({self.task, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        assert not self.task.done(), self.task.result()
        assert self.fake.gateway.identified.is_set(), "the bot did not connect"

    async def shutdown(self) -> None:
        if self.task is not None:
            self.stop.set()
            assert await asyncio.wait_for(self.task, 15) == 0
            self.task = None

    async def restart(self) -> None:
        await self.shutdown()
        await self.start()

    # -- reading the fake -------------------------------------------------------------------

    def cards(self) -> list[dict[str, Any]]:
        return [m for m in self.fake.channel_messages(MODS) if m["author"]["id"] == self.fake.bot.id]

    async def card(self, contains: str = "", wait_s: float = 10.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((c for c in self.cards() if contains in render(c)), None)

        result: dict[str, Any] = await self.fake.wait_for(found, wait_s)
        return result

    async def dm(self, user: FakeUser, contains: str, wait_s: float = 10.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((m for m in self.fake.dms(user.id) if contains in render(m)), None)

        result: dict[str, Any] = await self.fake.wait_for(found, wait_s)
        return result


async def set_up(bot: Bot) -> None:
    d = bot.driver
    done = await d.answered(await d.slash(ADMIN, "setup", GENERAL, mod_channel=MODS))
    assert "setup saved" in done and f"<#{MODS}>" in done, done
    enabled = await d.answered(await d.slash(ADMIN, "policy enable", GENERAL, policy="game-cheating"))
    assert "game-cheating" in enabled and "⚠" not in enabled, enabled


@contextlib.asynccontextmanager
async def logged_in_port(fake: FakeDiscord) -> AsyncIterator[DiscordPort]:
    """A Discord port of its own (REST only, no gateway), for calling the port directly."""
    client = ModbotClient(DiscordSettings("fake-token", api_base_url=fake.api))
    saved, discord.http.Route.BASE = discord.http.Route.BASE, fake.api
    try:
        await client.login("fake-token")
        yield DiscordPort(client)
    finally:
        await client.close()
        discord.http.Route.BASE = saved


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    guild = FakeGuild(
        GUILD, "Gamers", ADMIN.id, {GENERAL: "general", MODS: "mods"},
        {u.id: u for u in (ADMIN, MOD, HELPER, SAM, EVE, FakeUser("900", "modbot", bot=True, roles=["800"]))},
        bot_role="800",
    )  # fmt: skip
    saved_base, saved_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    model_open = asyncio.Event()
    model_open.set()

    async def model(body: dict[str, Any]) -> Any:
        await model_open.wait()  # a test may hold the model to keep jobs queued
        return stand_in(body)

    async with FakeDiscord() as fake, FakeOllama(model) as ollama:
        fake.guilds[GUILD] = guild
        running = Bot(fake, ollama, tmp_path / "modbot.db", Driver(fake, guild), model_open)
        await running.start()
        try:
            yield running
            await running.shutdown()  # a clean stop is part of every test
        finally:
            if running.task is not None:
                running.task.cancel()
            discord.http.Route.BASE = saved_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway
