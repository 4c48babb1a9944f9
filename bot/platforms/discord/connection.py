"""The Discord connection: the discord.py client, its settings, and `modbot run`'s adapter.

The client is built with the adapter (the core needs its port before it exists) and logs in
when the adapter starts serving a core. `DISCORD_API_BASE_URL` and `DISCORD_GATEWAY_URL`
point discord.py at a REST proxy (its base URL and gateway are class attributes, so they are
set here, once, before login). discord.py resumes dropped sessions itself; nothing is lost
meanwhile because every submitted message is already in the core's inbox. With DISCORD_SHARDS
set, this client is the REST client of the port (and syncs the commands) and `shards.py` runs one
client per shard this process locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
import yarl

from bot.core.aio import Supervisor
from bot.core.service import ModerationCore
from bot.platforms.discord.buttons import DYNAMIC_ITEMS
from bot.platforms.discord.commands import command_payload, sync_commands
from bot.platforms.discord.intake import Intake
from bot.platforms.discord.interactions import Interactions
from bot.platforms.discord.port import DiscordPort

if TYPE_CHECKING:
    from bot.platforms.discord.shards import Shards

log = logging.getLogger(__name__)

MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT(_LIMITED)
LOGIN_TIMEOUT_S = 30.0
REST_TIMEOUT_S = 60.0
MESSAGE_CACHE = 5000  # recent messages of every channel, for context without REST calls


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    token: str
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = ""  # empty: ask GET /gateway/bot
    guild_ready_timeout: float = 2.0
    max_ratelimit_timeout: float = 30.0  # longer rate limits come back to the outbox as retryable
    shards: str = ""  # DISCORD_SHARDS: "" = one session; "auto" or a number = shards.py
    shard_retry_s: float = 1.0  # how often a process checks its locks and tries the free shards
    identify_spacing_s: float = 5.0  # Discord: one IDENTIFY per 5 s per max_concurrency bucket


@dataclass(frozen=True, slots=True)
class Handlers:
    core: ModerationCore
    intake: Intake
    interactions: Interactions


class ModbotClient(discord.Client):
    """discord.py's client with modbot's listeners; `handlers` exist while a core is served."""

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        shard: tuple[int, int] | None = None,
        before_identify: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.guild_messages = True
        intents.message_content = True
        super().__init__(
            intents=intents,
            guild_ready_timeout=settings.guild_ready_timeout,
            max_ratelimit_timeout=settings.max_ratelimit_timeout,
            allowed_mentions=discord.AllowedMentions.none(),  # cards mention people without pinging
            max_messages=MESSAGE_CACHE,
            shard_id=shard[0] if shard else None,
            shard_count=shard[1] if shard else None,
        )
        self.settings = settings
        self.shard = shard  # (id, count) of a shard's client; None: the one session or REST only
        self._before_identify = before_identify
        self._served: Handlers | None = None
        self._tasks = Supervisor(log)

    def handlers(self) -> Handlers:
        if self._served is None:
            raise RuntimeError("no core is being served")
        return self._served

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        if self._served is None or self.shard is not None:
            return  # a client used for REST only (tests of the port), or a shard: the REST client syncs
        self._tasks.spawn("discord-command-sync", self._sync_commands)
        self._tasks.spawn("discord-intents-check", self._check_intents)

    async def _sync_commands(self) -> None:
        async with asyncio.timeout(REST_TIMEOUT_S):
            await sync_commands(self, command_payload(self.handlers().core.commands.commands.values()))

    async def _check_intents(self) -> None:
        async with asyncio.timeout(REST_TIMEOUT_S):
            info = await self.application_info()
        if not info.flags.value & MESSAGE_CONTENT_FLAGS:
            log.error(
                "Discord: the Message Content intent is switched off for this application. modbot sees "
                "no message text until you switch it on: Developer Portal → your app → Bot → "
                "Privileged Gateway Intents → Message Content Intent"
            )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if self._before_identify is None:
            await super().before_identify_hook(shard_id, initial=initial)
        else:  # shards: wait for this bucket's turn, shared with every process of the bot
            await self._before_identify(shard_id or 0)

    async def close(self) -> None:
        await self._tasks.stop()
        await super().close()

    # -- listeners (discord.py calls on_<event> methods of the client) -----------------------

    async def on_ready(self) -> None:
        log.info("Discord: connected as %s to %d server(s)", self.user, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        if self._served is not None:
            await self._served.intake.on_message(message)

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        if self._served is not None:
            await self._served.intake.on_raw_message_edit(event)

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        if self._served is not None:
            await self._served.intake.on_raw_message_delete(event)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if self._served is not None:
            await self._served.interactions.on_interaction(interaction)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._know(guild)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._know(guild)

    async def _know(self, guild: discord.Guild) -> None:
        """Record the server's name (DMs to members say where they were moderated)."""
        if self._served is None:
            return
        try:
            await self._served.core.ensure_space(str(guild.id), "discord", guild.name)
        except Exception:
            log.exception("could not record server %s", guild.id)

    def attach(self, core: ModerationCore) -> None:
        """Hand this client's events to `core` (a shard's client serves the core until closed)."""
        self._served = Handlers(core, Intake(core, self), Interactions(core))

    @contextlib.asynccontextmanager
    async def serving_core(self, core: ModerationCore) -> AsyncIterator[None]:
        self.attach(core)
        try:
            yield
        finally:
            self._served = None


def _point_at(settings: DiscordSettings) -> None:
    # discord.py reads both from class attributes; one Discord connection per process.
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")


async def _gateway(client: ModbotClient) -> Gateway:
    url = client.settings.gateway_url
    shards, concurrency = 1, 1
    if not url or client.settings.shards:
        shards, found, limits = await client.http.get_bot_gateway()
        url = url or found
        concurrency = int(limits.get("max_concurrency") or 1)
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    return Gateway(shards, concurrency)


class DiscordAdapter:
    name = "discord"

    def __init__(self, settings: DiscordSettings) -> None:
        self.settings = settings
        self.client = ModbotClient(settings)  # without shards: the session; with: REST for the port
        self._port = DiscordPort(self.client)
        self.shards: Shards | None = None

    @property
    def port(self) -> DiscordPort:
        return self._port

    @contextlib.asynccontextmanager
    async def serving(self, core: ModerationCore) -> AsyncIterator[None]:
        _point_at(self.settings)
        client = self.client
        async with client.serving_core(core):
            try:
                async with asyncio.timeout(LOGIN_TIMEOUT_S):
                    await client.login(self.settings.token)
                    gateway = await _gateway(client)
            except discord.LoginFailure:
                await client.close()
                log.error(
                    "Discord refused the bot token: check DISCORD_TOKEN (Developer Portal → Bot → Token)"
                )
                raise
            except BaseException:
                await client.close()
                raise
            if self.settings.shards:
                async with self._sharded(core, gateway):
                    yield
                return
            runner = asyncio.create_task(run_client(self.client), name="discord-gateway")
            try:
                yield
            finally:
                await client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    @contextlib.asynccontextmanager
    async def _sharded(self, core: ModerationCore, gateway: Gateway) -> AsyncIterator[None]:
        if core.shard_locks is None:
            raise RuntimeError("DISCORD_SHARDS needs the core's shard locks (bot.app wires them)")
        from bot.platforms.discord.shards import Shards  # it builds clients of this module

        count = gateway.shards if self.settings.shards == "auto" else int(self.settings.shards)
        self.shards = Shards(self.settings, core, core.shard_locks, count, gateway.max_concurrency)
        try:
            async with self.shards.running():
                yield
        finally:
            await self.client.close()

    def connected(self) -> bool:
        """The gateway session is up and READY (for /readyz); with shards, at least one of this
        process's shards is (a process holding none, a standby, is not ready)."""
        if self.shards is not None:
            return bool(self.shards.ready())
        return self.client.is_ready() and not self.client.is_closed()


async def run_client(client: discord.Client) -> None:
    """Keep one gateway session (discord.py reconnects and resumes); log why it stopped."""
    try:
        await client.connect(reconnect=True)
    except discord.PrivilegedIntentsRequired:
        log.error(
            "Discord refused the connection: switch on the Message Content intent in the Developer "
            "Portal (your app → Bot → Privileged Gateway Intents), then restart modbot"
        )
    except Exception:
        log.exception("the Discord connection stopped")


@dataclass(frozen=True, slots=True)
class Gateway:
    """What GET /gateway/bot says (1, 1 when DISCORD_GATEWAY_URL is set and there are no shards)."""

    shards: int
    max_concurrency: int
