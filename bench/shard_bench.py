"""Discord shard takeover: seconds from a process's end until another has its shards READY.

``python -m bench.shard_bench`` starts a throwaway PostgreSQL cluster (as the tests do), the fake
Discord (tests/fakes) with N shards and Discord's identify limit enforced (one IDENTIFY per 5 s per
bucket; a faster one is refused with 4008), and two "processes" in this Python process (each the
factory's runtime and a Discord adapter, with its own pool and shard-lock session). They split the
shards; then the one holding more of them ends: ``kill`` drops its connections and Postgres ends its
session (what SIGKILL does), ``stop`` is a clean stop (SIGTERM). Measured until the other process's
discord.py clients for those shards are READY (after their GUILD_CREATEs and discord.py's 2 s
guild-ready wait). Target (issue 12): <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
import discord
from pydantic import SecretStr

from bot.app import build_runtime
from bot.config import Settings
from bot.platforms.discord import build_adapter
from bot.platforms.discord.connection import DiscordAdapter
from bot.store import Store
from bot.store.shard_locks import SHARD_CLASS

TARGET_S = 10.0
WAIT_S = 120.0
SETTLE_S = 6.0


class Proc:
    def __init__(self, settings: Settings) -> None:
        self.adapter: DiscordAdapter = build_adapter(settings)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self._serve(settings))

    async def _serve(self, settings: Settings) -> None:
        async with contextlib.AsyncExitStack() as stack:
            runtime = await stack.enter_async_context(build_runtime(settings, {"discord": self.adapter.port}))
            await stack.enter_async_context(self.adapter.serving(runtime.core))
            await self.stop.wait()

    def ready(self) -> set[int]:
        return self.adapter.shards.ready() if self.adapter.shards is not None else set()


async def _until(check: Any, wait_s: float = WAIT_S) -> float:
    async with asyncio.timeout(wait_s):
        while True:  # polled: readiness is the clients' state, not an event
            if check():
                break
            await asyncio.sleep(0.01)
    return time.perf_counter()


async def _end_session(url: str, shard: int) -> None:
    """What Postgres does when the process holding `shard` dies: its session ends."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = $1 AND objid = $2 AND objsubid = 2",
            SHARD_CLASS, shard,
        )  # fmt: skip
    finally:
        await conn.close()


async def takeover(
    url: str, shards: int, max_concurrency: int, mode: str, settle_s: float = SETTLE_S
) -> dict[str, Any]:
    from tests.fakes import FakeOllama  # the tests' fakes: a benchmark, not the product
    from tests.fakes.discord_server import FakeDiscord

    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake, FakeOllama() as ollama:
        fake.gateway.shard_count, fake.gateway.max_concurrency = shards, max_concurrency
        fake.gateway.identify_spacing_s = 5.0
        settings = Settings(
            discord_token=SecretStr(fake.token), discord_api_base_url=fake.api, database_url=SecretStr(url),
            ollama_host=ollama.url, slack_bot_token=SecretStr(""), discord_shards=str(shards),
        )  # fmt: skip
        # Migrated before both start: two processes migrating one empty database at once collide.
        await (await Store.open(url)).close()
        procs = [Proc(settings), Proc(settings)]
        try:
            await _until(lambda: set().union(*(p.ready() for p in procs)) == set(range(shards)))
            await asyncio.sleep(settle_s)  # steady state: the startup's IDENTIFY turns have run out
            leaving = max(procs, key=lambda p: len(p.ready()))
            staying = procs[1] if leaving is procs[0] else procs[0]
            moved = leaving.ready()
            t0 = time.perf_counter()
            if mode == "kill":
                if leaving.adapter.shards is not None:
                    await leaving.adapter.shards.crash()
                await _end_session(url, min(moved))
            else:
                leaving.stop.set()
            first = await _until(lambda: bool(staying.ready() & moved))
            done = await _until(lambda: moved <= staying.ready())
            return {"mode": mode, "settle_s": settle_s, "shards": shards,
                    "max_concurrency": max_concurrency, "moved": len(moved),
                    "first_ready_s": round(first - t0, 2), "all_ready_s": round(done - t0, 2),
                    "refused_identifies": fake.gateway.refused}  # fmt: skip
        finally:
            for proc in procs:
                proc.stop.set()
            await asyncio.wait([p.task for p in procs], timeout=WAIT_S)
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


async def run(
    url: str | None, shards: int, concurrencies: Sequence[int], settle_s: float = SETTLE_S
) -> list[dict[str, Any]]:
    from bench.pg_queue_bench import _cluster  # the same throwaway cluster as the queue bench

    results = []
    with _cluster(url) as cluster:
        for concurrency in concurrencies:
            for mode in ("kill", "stop"):
                fresh = url or cluster.new_database()
                results.append(await takeover(fresh, shards, concurrency, mode, settle_s))
                print(json.dumps(results[-1]), flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shard_bench", description=__doc__)
    parser.add_argument("--url", help="an existing Postgres database (default: a throwaway cluster)")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--concurrency", type=int, action="append", help="max_concurrency (default 1 and 16)")
    parser.add_argument("--settle", type=float, default=SETTLE_S,
                        help="seconds from all shards READY to the end (0: just after startup)")  # fmt: skip
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.url, args.shards, args.concurrency or [1, 16], args.settle))
    worst = max(r["all_ready_s"] for r in results)
    print(f"shard takeover to READY: worst {worst} s (target <= {TARGET_S} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
