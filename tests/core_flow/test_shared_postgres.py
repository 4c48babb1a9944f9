"""Two cores (as two processes would run them) on one Postgres: one queue, one verdict per job,
one card per violation, and both drain the backlog."""

from __future__ import annotations

import asyncio

from tests.core_flow.conftest import Env, admin_of, message, stand_in
from tests.core_flow.test_second_opinions import tier2_of
from tests.fakes import FakeOllama, FakeOpenAI, Reply, verdict_json
from tests.fakes.recording_platform import RecordingPlatform


async def _settled(env: Env) -> None:
    for _ in range(1000):  # bounded: the workers claim on NOTIFY, or within a poll interval
        jobs = await env.store.inbox.counts()
        outbox = await env.store.outbox.counts()
        if jobs["pending"] == jobs["leased"] == 0 and outbox["pending"] == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not settled: {jobs}, {outbox}")


async def test_two_processes_share_the_queue_and_flag_each_violation_once(pg_url: str, tokens) -> None:
    async with FakeOllama(stand_in) as fake:
        platform = RecordingPlatform()  # both processes serve the same platform
        one, two = Env(fake, platform, pg_url, tokens), Env(fake, platform, pg_url, tokens)
        try:
            core = await one.start(workers=2)
            await two.start(workers=2)
            await one.install("guild-1", "game-cheating")
            texts = [f"selling aimbot number {n}" if n % 3 == 0 else f"gg, nice round {n}" for n in range(24)]
            for n, text in enumerate(texts):
                await core.submit(message(n, text))
            await _settled(one)

            rows = await one.store.db.fetchall("SELECT job_id, COUNT(*) AS n FROM verdicts GROUP BY job_id")
            assert len(rows) == 8 and {int(r["n"]) for r in rows} == {1}  # one verdict per job
            assert len(fake.requests) == 8  # one model call per candidate, none twice
            flagged = sorted(f.message_id for f in platform.flags)
            assert flagged == sorted(str(n) for n in range(24) if n % 3 == 0)  # one card each
            assert one.core.pipeline.stats.verdicts + two.core.pipeline.stats.verdicts == 8
        finally:
            await two.stop()
            await one.stop()


async def test_a_policy_switched_off_through_one_process_is_off_in_the_other(pg_url: str, tokens) -> None:
    async with FakeOllama(stand_in) as fake:
        platform = RecordingPlatform()
        one, two = Env(fake, platform, pg_url, tokens), Env(fake, platform, pg_url, tokens)
        try:
            await one.start()
            other = await two.start()
            await one.install("guild-1", "game-cheating")
            await other.submit(message(1, "selling aimbot, dm me"))  # the other process reads the policy
            await _settled(one)
            assert len(fake.requests) == 1

            result = await one.core.admin.set_mode("guild-1", admin_of("guild-1"), "game-cheating", "off")
            assert result.ok, result.message
            for _ in range(500):  # the change reaches the other process by NOTIFY
                if not await other.book.active("guild-1"):
                    break
                await asyncio.sleep(0.01)
            submitted = await other.submit(message(2, "selling aimbot again, dm me"))
            await _settled(one)
            assert len(fake.requests) == 1  # no check under a policy its admin switched off
            assert submitted.candidates == 0
        finally:
            await two.stop()
            await one.stop()


def unsure(body: dict) -> Reply:
    """The 20b is not sure about anything that mentions an aimbot: the policy wants the 120b."""
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = "aimbot" in target
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "low" if bad else "high", "stand-in"))


async def test_a_worker_without_the_120b_hands_what_needs_it_to_a_process_that_has_it(
    pg_url: str, tokens, encoding
) -> None:
    final = Reply(verdict_json(1, ["GC1"], "high", "the 120b is sure"))
    async with FakeOllama(unsure) as fake, FakeOpenAI(lambda _b: final, encoding=encoding) as big:
        platform = RecordingPlatform()
        donor, bot = Env(fake, platform, pg_url, tokens), Env(fake, platform, pg_url, tokens)
        try:
            worker = await donor.start(classify_only=True)  # a donor's `modbot worker`: no 120b
            await donor.install("guild-1", "game-cheating")
            await worker.submit(message(1, "selling aimbot, dm me"))

            async def handed_on() -> bool:
                row = await donor.store.db.fetchone("SELECT status, escalate FROM inbox")
                return row is not None and row["status"] == "pending" and bool(row["escalate"])

            for _ in range(500):
                if await handed_on():
                    break
                await asyncio.sleep(0.02)
            assert await handed_on()  # the 20b was unsure: nothing stored, no card yet
            assert not await donor.store.db.fetchall("SELECT id FROM verdicts")

            await bot.start(tier2=tier2_of(big.url, encoding))  # a `modbot run` process with the 120b
            await _settled(bot)
            verdicts = await bot.store.db.fetchall("SELECT tier FROM verdicts")
            assert [int(v["tier"]) for v in verdicts] == [2]  # one verdict: the larger model's
            assert len(big.requests) == 1
            assert [f.message_id for f in platform.flags] == ["1"]  # one card, from the final answer
        finally:
            await bot.stop()
            await donor.stop()
