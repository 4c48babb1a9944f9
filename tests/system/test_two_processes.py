"""Two real `modbot run` processes on one Postgres, against the fake Discord and a slow fake Ollama.

Mid-backlog one process is stopped (SIGSTOP) past its heartbeat, so the other takes its leases
back, then resumed (SIGCONT): whatever it was classifying must not become a second verdict. Then
the other is killed (SIGKILL): the survivor takes its shard and its leases over. In the end every
job has exactly one verdict and every violation exactly one card in the mod channel.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.store import Store
from tests.core_flow.conftest import stand_in
from tests.discord_bot.conftest import SAM
from tests.discord_bot.test_discord_shards import general, guild_of_shard, set_up
from tests.fakes import FakeOllama, Reply
from tests.fakes.discord_driver import Driver
from tests.fakes.discord_server import FakeDiscord

WAIT_S = 90.0  # generous: the processes share two cores with the test
MESSAGES_PER_GUILD = 24
STALE_S = 5.0  # a worker whose heartbeat is older is declared hung (bot/store/workers.py)


def slow(body: dict[str, Any]) -> Reply:
    """The stand-in verdict, after half a second: long enough for a backlog to form."""
    reply = stand_in(body)
    reply.delay_s = 0.5
    return reply


async def eventually(check: Callable[[], Any], what: str, wait_s: float = WAIT_S) -> Any:
    try:
        async with asyncio.timeout(wait_s):
            while not (result := await check()):
                await asyncio.sleep(0.1)
            return result
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@asynccontextmanager
async def modbot_run(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=out, stderr=out
        )
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def test_two_processes_one_paused_one_killed_one_verdict_per_job_one_card_per_case(
    pg_url: str, tmp_path: Path
) -> None:
    async with FakeDiscord() as fake, FakeOllama(slow, slots=4) as ollama:
        fake.gateway.shard_count, fake.gateway.max_concurrency = 2, 2
        fake.gateway.identify_spacing_s = 0.5
        guilds = [guild_of_shard(shard, 2) for shard in (0, 1)]
        for guild in guilds:
            fake.guilds[guild.id] = guild
        env = {
            **os.environ,
            "DISCORD_TOKEN": fake.token, "DISCORD_API_BASE_URL": fake.api, "DISCORD_SHARDS": "2",
            "DATABASE_URL": pg_url, "OLLAMA_HOST": ollama.url, "OLLAMA_SLOTS": "2",
            "SLACK_BOT_TOKEN": "", "LOG_LEVEL": "INFO",
        }  # fmt: skip
        store = await Store.open(pg_url)
        try:
            async with (
                modbot_run(env, tmp_path / "first.log") as first,
                modbot_run(env, tmp_path / "second.log") as second,
            ):

                async def both_shards() -> bool:
                    return fake.gateway.connected() == {0, 1}

                await eventually(both_shards, "both shards connected")
                drivers = [Driver(fake, fake.guilds[g.id]) for g in guilds]
                for driver in drivers:
                    await set_up(driver)
                for n in range(MESSAGES_PER_GUILD):
                    for shard, driver in enumerate(drivers):
                        await driver.say(SAM, general(driver), f"selling aimbot {shard}-{n}, dm me")

                async def verdicts() -> int:
                    row = await store.db.fetchone("SELECT COUNT(*) AS n FROM verdicts")
                    return int(row["n"]) if row else 0

                async def at_least(n: int) -> Callable[[], Any]:
                    async def check() -> bool:
                        return await verdicts() >= n

                    return check

                await eventually(await at_least(4), "the first verdicts")
                second.send_signal(signal.SIGSTOP)  # hung: its leases go back after its heartbeat
                await asyncio.sleep(STALE_S + 2.5)  # the hang has to last; nothing is asserted on time
                second.send_signal(signal.SIGCONT)
                before_kill = await verdicts()
                await eventually(await at_least(before_kill + 4), "verdicts after the pause")
                first.send_signal(signal.SIGKILL)
                await first.wait()

                async def settled() -> bool:
                    jobs = await store.inbox.counts()
                    outbox = await store.outbox.counts()
                    return jobs["pending"] == jobs["leased"] == 0 and outbox["pending"] == 0

                await eventually(settled, "the backlog to drain in the surviving process")
                assert second.returncode is None  # the paused one came back and finished the work

            jobs = await store.db.fetchall("SELECT id, status FROM inbox")
            assert len(jobs) == 2 * MESSAGES_PER_GUILD and {r["status"] for r in jobs} == {"done"}
            rows = await store.db.fetchall("SELECT job_id FROM verdicts")
            per_job = Counter(int(r["job_id"]) for r in rows)
            assert set(per_job) == {int(r["id"]) for r in jobs}
            assert set(per_job.values()) == {1}  # one verdict per job, none twice
            cases = await store.db.fetchall("SELECT id FROM cases")
            assert len(cases) == 2 * MESSAGES_PER_GUILD
            cards: Counter[str] = Counter()
            for guild in guilds:
                mods = next(c for c, name in guild.channels.items() if name == "mods")
                cards.update(str(m.get("nonce")) for m in fake.channel_messages(mods) if m.get("nonce"))
            assert cards == Counter({f"modbot-case-{r['id']}": 1 for r in cases})  # one card each
        finally:
            await store.close()
