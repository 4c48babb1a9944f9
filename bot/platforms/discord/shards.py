"""Discord shards across processes: connect the shards this process can lock, take over the rest.

With DISCORD_SHARDS set, each round (every `shard_retry_s`) a process checks which shard locks it
really holds (`ShardLocks`, the store's, through the core), disconnects a shard whose lock it lost,
reconnects one whose session ended, and locks free shards up to its fair share, ceil(shards /
processes present). Processes started together split the shards; one started later holds none
until another stops (a hot standby): live processes are not rebalanced, because moving a shard
drops its events while it reconnects. A stopped or killed process's locks free themselves (its
Postgres session ends), so the others take its shards over at their next round.

One discord.py `Client(shard_id, shard_count)` per shard: a shard taken over at runtime is one more
client beside the others (`AutoShardedClient` fixes its shard ids when it connects). Every
IDENTIFY waits for its bucket's turn (bucket = shard id % max_concurrency, one per 5 s), shared by
all processes through the locks. Discord sends DMs to shard 0 only: whichever process holds it
receives appeals, and the core handles them as any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.core.aio import Supervisor
from bot.core.ports import ShardLocks
from bot.core.service import ModerationCore
from bot.platforms.discord.connection import LOGIN_TIMEOUT_S, DiscordSettings, ModbotClient, run_client

log = logging.getLogger(__name__)


class Shards:
    """This process's shard clients, and the loop that takes and keeps their locks."""

    def __init__(
        self, settings: DiscordSettings, core: ModerationCore, locks: ShardLocks, count: int,
        max_concurrency: int,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.core = core
        self.locks = locks
        self.count = max(1, count)
        self.max_concurrency = max(1, max_concurrency)
        self._clients: dict[int, ModbotClient] = {}
        self._runners: dict[int, asyncio.Task[None]] = {}
        self._tasks = Supervisor(log)

    def ready(self) -> set[int]:
        """The shards this process has connected and READY."""
        return {s for s, c in self._clients.items() if c.is_ready() and not c.is_closed()}

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._tasks.spawn("discord-shards", self._loop, restart=True)
        try:
            yield
        finally:
            await self._tasks.stop()
            for shard in list(self._clients):
                await self._stop(shard)
            await self.locks.release_all()  # now, not when the runtime closes: others take over sooner

    async def crash(self) -> None:
        """Stop taking shards and drop every connection, keeping the locks, as a killed process
        leaves them until Postgres ends its session (for the takeover benchmark)."""
        await self._tasks.stop()
        for shard in list(self._clients):
            await self._stop(shard)

    async def _loop(self) -> None:
        # Be counted first and wait one round, so processes started together see each other.
        await self.locks.peers()
        await asyncio.sleep(self.settings.shard_retry_s)
        while True:
            await self.round()
            await asyncio.sleep(self.settings.shard_retry_s)

    async def round(self) -> None:
        held = await self.locks.held()
        for shard in list(self._clients):
            if shard not in held:
                log.warning("Discord shard %d: this process lost its lock; disconnecting it", shard)
                await self._stop(shard)
            elif (runner := self._runners.get(shard)) is None or runner.done():
                log.warning("Discord shard %d: its session ended; connecting it again", shard)
                await self._stop(shard)
        share = -(-self.count // max(1, await self.locks.peers()))
        for shard in range(self.count):
            if len(self._clients) >= share:
                break
            if shard not in self._clients and (shard in held or await self.locks.try_take(shard)):
                try:
                    await self._start(shard)
                except Exception:  # the lock is kept: the next round connects it again
                    log.exception("Discord shard %d: could not log in", shard)

    async def _start(self, shard: int) -> None:
        client = ModbotClient(self.settings, shard=(shard, self.count), before_identify=self._turn)
        client.attach(self.core)
        self._clients[shard] = client  # before login: a stop meanwhile still closes it
        async with asyncio.timeout(LOGIN_TIMEOUT_S):
            await client.login(self.settings.token)
        self._runners[shard] = asyncio.create_task(run_client(client), name=f"discord-shard-{shard}")
        log.info("Discord shard %d of %d: locked by this process, connecting", shard, self.count)

    async def _turn(self, shard_id: int) -> None:
        await self.locks.identify_turn(shard_id % self.max_concurrency, self.settings.identify_spacing_s)

    async def _stop(self, shard: int) -> None:
        client = self._clients.pop(shard)
        runner = self._runners.pop(shard, None)
        await client.close()
        if runner is not None:
            runner.cancel()  # it may be waiting for an IDENTIFY turn
            with contextlib.suppress(asyncio.CancelledError):
                await runner
