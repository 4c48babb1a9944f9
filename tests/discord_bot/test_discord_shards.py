"""Discord shards shared by two modbot processes over one Postgres, against the fake Discord.

Each "process" is what `modbot run` builds (the factory's runtime and a Discord adapter serving its
core) with its own store pool and shard-lock session; both run in this test's event loop. The
shard locks are real Postgres advisory locks (the `pg_url` fixture starts a real server).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import discord
import pytest
from pydantic import SecretStr

from bot.app import build_runtime
from bot.config import Settings
from bot.platforms.discord import build_adapter
from bot.platforms.discord.connection import DiscordAdapter
from bot.store.shard_locks import SHARD_CLASS
from tests.core_flow.conftest import stand_in
from tests.discord_bot.conftest import ADMIN, EVE, MOD, SAM
from tests.fakes import FakeOllama
from tests.fakes.discord_driver import Driver, buttons, render
from tests.fakes.discord_payloads import FakeGuild, FakeUser
from tests.fakes.discord_server import FakeDiscord

WAIT_S = 45.0  # generous: two processes share two cores with the rest of the suite


def guild_of_shard(shard: int, count: int) -> FakeGuild:
    gid = (shard << 22) + 100 + shard  # Discord: shard = (guild_id >> 22) % count
    assert (gid >> 22) % count == shard
    channels = {f"{gid}1": "general", f"{gid}2": "mods"}
    members = {u.id: u for u in (ADMIN, MOD, SAM, EVE, FakeUser("900", "modbot", bot=True, roles=["800"]))}
    return FakeGuild(str(gid), f"Server {shard}", ADMIN.id, channels, members, bot_role="800")


@dataclass
class Process:
    adapter: DiscordAdapter
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def ready(self) -> set[int]:
        return self.adapter.shards.ready() if self.adapter.shards is not None else set()


@dataclass
class Cluster:
    fake: FakeDiscord
    settings: Settings
    count: int
    processes: list[Process] = field(default_factory=list)

    def start(self) -> Process:
        proc = Process(build_adapter(self.settings))
        proc.task = asyncio.create_task(_serve(self.settings, proc))
        self.processes.append(proc)
        return proc

    async def stop(self, proc: Process) -> None:
        proc.stop.set()
        assert proc.task is not None
        await asyncio.wait_for(proc.task, WAIT_S)
        self.processes.remove(proc)

    def driver(self, shard: int) -> Driver:
        return Driver(self.fake, self.fake.guilds[str(guild_of_shard(shard, self.count).id)])

    async def card(self, guild: FakeGuild, contains: str) -> dict[str, Any]:
        mods = next(c for c, name in guild.channels.items() if name == "mods")

        def found() -> dict[str, Any] | None:
            return next((m for m in self.fake.channel_messages(mods) if contains in render(m)), None)

        result: dict[str, Any] = await self.fake.wait_for(found, WAIT_S)
        return result


async def _serve(settings: Settings, proc: Process) -> None:
    """What `modbot run` does with one Discord adapter, until `proc.stop` is set."""
    async with contextlib.AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(build_runtime(settings, {"discord": proc.adapter.port}))
        await stack.enter_async_context(proc.adapter.serving(runtime.core))
        await proc.stop.wait()


async def eventually(check: Callable[[], Any], wait_s: float = WAIT_S) -> Any:
    """Poll until `check()` is truthy: shard readiness is the clients' state, not the fake's."""
    async with asyncio.timeout(wait_s):
        while not (result := check()):
            await asyncio.sleep(0.05)
        return result


def split_evenly(cluster: Cluster) -> bool:
    held = [p.ready() for p in cluster.processes]
    everything = set().union(*held)
    disjoint = sum(len(h) for h in held) == len(everything)
    return (
        everything == set(range(cluster.count))
        and disjoint
        and cluster.fake.gateway.connected() == everything
    )


@contextlib.asynccontextmanager
async def cluster_of(
    database: str, count: int, max_concurrency: int, spacing_s: float
) -> AsyncIterator[Cluster]:
    """The fakes and the settings of processes sharing `database` (a Postgres URL or a SQLite file)."""
    saved_base, saved_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake, FakeOllama(stand_in) as ollama:
        fake.gateway.shard_count, fake.gateway.max_concurrency = count, max_concurrency
        fake.gateway.identify_spacing_s = spacing_s
        for shard in range(count):
            guild = guild_of_shard(shard, count)
            fake.guilds[guild.id] = guild
        settings = Settings(
            discord_token=SecretStr(fake.token), discord_api_base_url=fake.api,
            database_url=SecretStr(database if database.startswith("postgresql://") else ""),
            database_path=Path(database), ollama_host=ollama.url, slack_bot_token=SecretStr(""),
            discord_shards=str(count),
        )  # fmt: skip
        cluster = Cluster(fake, settings, count)
        try:
            yield cluster
            for proc in list(cluster.processes):
                await cluster.stop(proc)  # a clean stop is part of every test
        finally:
            for proc in cluster.processes:
                if proc.task is not None:
                    proc.task.cancel()
            discord.http.Route.BASE = saved_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved_gateway


def general(driver: Driver) -> str:
    return next(c for c, name in driver.guild.channels.items() if name == "general")


async def set_up(driver: Driver) -> None:
    general, mods = list(driver.guild.channels)
    done = await driver.answered(await driver.slash(ADMIN, "setup", general, mod_channel=mods), WAIT_S)
    assert "setup saved" in done, done
    enabled = await driver.answered(
        await driver.slash(ADMIN, "policy enable", general, policy="game-cheating"), WAIT_S
    )
    assert "game-cheating" in enabled, enabled


async def test_two_processes_share_the_shards_and_one_takes_over_when_the_other_stops(pg_url: str) -> None:
    async with cluster_of(pg_url, count=4, max_concurrency=4, spacing_s=5.0) as cluster:
        first, second = cluster.start(), cluster.start()
        await eventually(lambda: split_evenly(cluster))
        assert cluster.fake.gateway.identifies_per_shard == {0: 1, 1: 1, 2: 1, 3: 1}
        assert cluster.fake.gateway.refused == 0

        for shard in range(4):  # every shard's guild is served, whichever process holds it
            driver = cluster.driver(shard)
            await set_up(driver)
            await driver.say(SAM, general(driver), f"selling aimbot on server {shard}, dm me")
        for shard in range(4):
            card = await cluster.card(cluster.driver(shard).guild, f"server {shard}")
            assert "game-cheating" in render(card)

        # An appeal: the DM's buttons come back on shard 0, in whichever process holds it.
        driver = cluster.driver(3)
        card = await cluster.card(driver.guild, "server 3")
        await driver.answered(await driver.click(MOD, card["id"], buttons(card)["Remove"]), WAIT_S)
        dm = await cluster.fake.wait_for(
            lambda: next((m for m in cluster.fake.dms(SAM.id) if "removed" in render(m)), None), WAIT_S
        )
        form = await driver.click(SAM, dm["id"], buttons(dm)["Appeal"], dm=True)
        await cluster.fake.wait_for(lambda: form.callbacks, WAIT_S)
        modal_id = form.callbacks[0]["data"]["custom_id"]
        sent = await driver.submit(SAM, modal_id, {"statement": "I was warning people about it"}, dm=True)
        assert "appeal was sent" in await driver.answered(sent, WAIT_S)
        await cluster.fake.wait_for(
            lambda: "warning people" in render(cluster.fake.messages[card["id"]]), WAIT_S
        )

        # The process with more shards stops: its locks go with its session, the other takes over.
        leaving = max((first, second), key=lambda p: len(p.ready()))
        staying = second if leaving is first else first
        moved = leaving.ready()
        await cluster.stop(leaving)
        await eventually(lambda: staying.ready() == {0, 1, 2, 3})
        assert cluster.fake.gateway.connected() == {0, 1, 2, 3}
        for shard in moved:
            assert cluster.fake.gateway.identifies_per_shard[shard] == 2
            driver = cluster.driver(shard)
            await driver.say(SAM, general(driver), f"aimbot again on server {shard}, cheap")
            await cluster.card(driver.guild, f"again on server {shard}")
        assert cluster.fake.gateway.refused == 0


async def test_identifies_keep_to_discords_rate_limit_across_processes(pg_url: str) -> None:
    # One bucket: Discord refuses (4008) a second IDENTIFY within 5 s, whichever process sends it.
    async with cluster_of(pg_url, count=2, max_concurrency=1, spacing_s=5.0) as cluster:
        cluster.start()
        cluster.start()
        await eventually(lambda: split_evenly(cluster))
        assert cluster.fake.gateway.refused == 0
        assert cluster.fake.gateway.identifies_per_shard == {0: 1, 1: 1}


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_discord_shards_must_be_auto_or_a_count(value: str) -> None:
    with pytest.raises(ValueError, match="discord_shards"):
        Settings(discord_shards=value)


async def test_a_process_whose_lock_session_ends_lets_go_of_its_shards(pg_url: str) -> None:
    # Its Postgres session ends (a network cut, an admin) but the process lives on: it must not
    # keep shards another process may now take, and every shard must end up connected once.
    async with cluster_of(pg_url, count=2, max_concurrency=2, spacing_s=5.0) as cluster:
        cluster.start()
        cluster.start()
        await eventually(lambda: split_evenly(cluster))
        killer = await asyncpg.connect(pg_url)
        try:
            await killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = $1 AND objid = 0 AND objsubid = 2",
                SHARD_CLASS,
            )
        finally:
            await killer.close()
        await eventually(lambda: cluster.fake.gateway.identifies_per_shard.get(0, 0) >= 2)
        await eventually(lambda: split_evenly(cluster))
        for shard in range(2):
            driver = cluster.driver(shard)
            await set_up(driver)
            await driver.say(SAM, general(driver), f"selling aimbot on server {shard}, dm me")
            await cluster.card(driver.guild, f"server {shard}")


async def test_on_sqlite_one_process_connects_every_shard(tmp_path: Path) -> None:
    async with cluster_of(str(tmp_path / "modbot.db"), count=2, max_concurrency=1, spacing_s=5.0) as cluster:
        only = cluster.start()
        await eventually(lambda: only.ready() == {0, 1} and cluster.fake.gateway.connected() == {0, 1})
        assert cluster.fake.gateway.refused == 0
        driver = cluster.driver(1)  # a guild of shard 1; its DMs come on shard 0
        await set_up(driver)
        await driver.say(SAM, general(driver), "selling aimbot on server 1, dm me")
        card = await cluster.card(driver.guild, "server 1")
        await driver.answered(await driver.click(MOD, card["id"], buttons(card)["Remove"]), WAIT_S)
        dm = await cluster.fake.wait_for(
            lambda: next((m for m in cluster.fake.dms(SAM.id) if "removed" in render(m)), None), WAIT_S
        )
        form = await driver.click(SAM, dm["id"], buttons(dm)["Appeal"], dm=True)
        await cluster.fake.wait_for(lambda: form.callbacks, WAIT_S)
        assert form.callbacks[0]["type"] == 9  # the appeal form, answered from shard 0's session
