"""The Discord port passes the same contract as every platform, against the fake Discord."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.ports import Platform
from bot.platforms.discord.port import DiscordPort
from tests.discord_bot.conftest import logged_in_port
from tests.fakes.discord_driver import render
from tests.fakes.discord_payloads import FakeGuild, FakeUser, message
from tests.fakes.discord_server import FakeDiscord
from tests.port_contract import check_port_contract


@dataclass
class DiscordHarness:
    fake: FakeDiscord
    discord_port: DiscordPort
    mod_channel: str = "C-mods"

    @property
    def port(self) -> Platform:
        return self.discord_port

    async def card_texts(self) -> list[str]:
        return [render(m) for m in self.fake.channel_messages(self.mod_channel)]

    async def deleted(self) -> list[str]:
        return list(self.fake.deleted)

    async def timed_out(self) -> list[str]:
        return list(self.fake.timeouts)

    async def dm_texts(self, user_id: str) -> list[str]:
        return [render(m) for m in self.fake.dms(user_id)]


async def test_discord_port_passes_the_port_contract() -> None:
    async with FakeDiscord() as fake:
        sam = FakeUser("U-sam", "sam")
        fake.guilds["S1"] = FakeGuild("S1", "Test", "U-sam", {"C-general": "general", "C-mods": "mods"},
                                      {"U-sam": sam})  # fmt: skip
        fake.messages["M-1"] = message("M-1", "C-general", sam, "selling aimbot, dm me", guild_id="S1")
        async with logged_in_port(fake) as port:
            await check_port_contract(DiscordHarness(fake, port))
