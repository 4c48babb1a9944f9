"""`modbot worker` as a donor runs it: a real subprocess on the shared Postgres with its own
(fake) Ollama. The platform process in the test takes the messages and posts the cards; the worker
only classifies, and a SIGTERM never loses the job it was working on."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.store.records import NewJob
from tests.conftest import ROOT
from tests.core_flow.conftest import Env, message, stand_in
from tests.fakes import FakeOllama, Reply
from tests.fakes.recording_platform import RecordingPlatform


class WorkerProcess:
    """`python -m bot worker` with DATABASE_URL and OLLAMA_HOST; its log goes to a file."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    @classmethod
    async def start(
        cls, database_url: str, ollama_url: str, log: Path, metrics_port: int | None = None
    ) -> WorkerProcess:
        env = {**os.environ, "DATABASE_URL": database_url, "OLLAMA_HOST": ollama_url, "PYTHONPATH": str(ROOT)}
        for name in ("MODEL_ENDPOINTS", "ESCALATION_URL", "METRICS_PORT", "DATABASE_PATH"):
            env.pop(name, None)
        if metrics_port is not None:
            env["METRICS_PORT"] = str(metrics_port)
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "worker", cwd=log.parent, env=env,
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        return cls(proc, log)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def logged(self, wanted: str) -> str:
        """Wait (bounded) until the worker's log holds ``wanted``; its whole log."""
        for _ in range(3000):
            text = self.text()
            if wanted in text:
                return text
            if self.proc.returncode is not None:
                raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{text}")
            await asyncio.sleep(0.02)
        raise AssertionError(f"the worker never logged {wanted!r}:\n{self.text()}")

    async def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 60)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _settled(env: Env, pending: int = 0) -> dict[str, int]:
    for _ in range(2000):  # bounded: the worker claims on NOTIFY, or within a poll interval
        jobs = await env.store.inbox.counts()
        outbox = await env.store.outbox.counts()
        if jobs["pending"] == pending and jobs["leased"] == 0 and outbox["pending"] == 0:
            return jobs
        await asyncio.sleep(0.02)
    raise AssertionError(f"not settled: {jobs}, {outbox}")


async def test_a_worker_process_classifies_the_queue_and_the_bot_posts_the_cards(
    pg_url: str, tokens, tmp_path: Path
) -> None:
    async with FakeOllama(stand_in) as bot_model, FakeOllama(stand_in) as donor:
        platform = RecordingPlatform()
        bot = Env(bot_model, platform, pg_url, tokens)
        worker: WorkerProcess | None = None
        try:
            core = await bot.start(workers=0)  # the platform process: intake and cards, no model slot
            await bot.install("guild-1", "game-cheating")
            texts = [f"selling aimbot number {n}" if n % 3 == 0 else f"gg, nice round {n}" for n in range(18)]
            for n, text in enumerate(texts[:9]):  # waiting before the worker starts
                await core.submit(message(n, text))
            # An appeal's second opinion asks for tier 2, which this donor does not have.
            appeal = NewJob.from_message(
                message(99, "selling aimbot, appealed"), policy_id="game-cheating", policy_version=1,
                policy_hash="h", match_reason="appeal",
            )  # fmt: skip
            [appeal_id] = await bot.store.inbox.add_many([dataclasses.replace(appeal, escalate=True)])
            port = _free_port()
            worker = await WorkerProcess.start(pg_url, donor.url, tmp_path / "worker.log", port)
            log = await worker.logged("serves tier 1 on")
            assert donor.url.removeprefix("http://") in log  # which endpoint it serves
            for n, text in enumerate(texts[9:], 9):  # announced to the running worker
                await core.submit(message(n, text))
            jobs = await _settled(bot, pending=1)

            assert jobs["done"] == 6
            left = await bot.store.inbox.get(appeal_id)
            assert left is not None and left.status == "pending"  # left to a process with a 120b
            rows = await bot.store.db.fetchall("SELECT job_id, COUNT(*) AS n FROM verdicts GROUP BY job_id")
            assert len(rows) == 6 and {int(r["n"]) for r in rows} == {1}  # one verdict per job
            assert len(donor.requests) == 6 and bot_model.requests == []  # the donor's GPU did the work
            flagged = sorted((f.message_id for f in platform.flags), key=int)
            assert flagged == [str(n) for n in range(18) if n % 3 == 0]  # one card each, by the bot
            pids = {int(r["pid"]) for r in await bot.store.db.fetchall("SELECT pid FROM workers")}
            assert worker.proc.pid in pids  # registered (lock and heartbeat) beside the bot
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                metrics = (await http.get("/metrics")).text
                ready = await http.get("/readyz")
            assert "modbot_verdicts_total 6.0" in metrics  # the worker's own figures, on Postgres
            assert 'modbot_jobs{status="done"} 6.0' in metrics
            assert ready.status_code == 200 and ready.json()["ready"] is True

            assert await worker.terminate() == 0
            pids = {int(r["pid"]) for r in await bot.store.db.fetchall("SELECT pid FROM workers")}
            assert worker.proc.pid not in pids  # left the registry on a clean stop
        finally:
            if worker is not None:
                worker.kill()
            await bot.stop()


async def test_sigterm_mid_classification_hands_the_job_back(pg_url: str, tokens, tmp_path: Path) -> None:
    release = asyncio.Event()

    async def held(body: dict) -> Reply:
        await release.wait()  # the model is "thinking" until the test lets it answer
        return stand_in(body)

    async with FakeOllama(stand_in) as bot_model, FakeOllama(held) as donor:
        platform = RecordingPlatform()
        bot = Env(bot_model, platform, pg_url, tokens)
        workers: list[WorkerProcess] = []
        try:
            core = await bot.start(workers=0)
            await bot.install("guild-1", "game-cheating")
            await core.submit(message(1, "selling aimbot, dm me"))
            workers.append(await WorkerProcess.start(pg_url, donor.url, tmp_path / "first.log"))
            for _ in range(3000):  # bounded: until the worker's call is at the model
                if donor.active:
                    break
                await asyncio.sleep(0.02)
            assert donor.active == 1

            assert await workers[0].terminate() == 0
            counts = await bot.store.inbox.counts()
            assert counts["pending"] == 1 and counts["leased"] == 0  # back in the queue, not lost
            assert await bot.store.db.fetchall("SELECT job_id FROM verdicts") == []

            release.set()
            workers.append(await WorkerProcess.start(pg_url, donor.url, tmp_path / "second.log"))
            await _settled(bot)
            assert [f.message_id for f in platform.flags] == ["1"]  # checked once it came back
            assert await workers[1].terminate() == 0
        finally:
            release.set()
            for worker in workers:
                worker.kill()
            await bot.stop()


async def test_a_worker_says_when_its_model_is_not_pulled(pg_url: str, tmp_path: Path) -> None:
    async with FakeOllama(models=set()) as donor:
        worker = await WorkerProcess.start(pg_url, donor.url, tmp_path / "worker.log")
        try:
            log = await worker.logged("is not pulled")
            assert "ollama pull gpt-oss-safeguard:20b" in log
            assert await worker.terminate() == 0
        finally:
            worker.kill()


def test_without_a_postgres_url_the_worker_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL=postgresql://" in err and "SQLite would share nothing" in err


@pytest.mark.parametrize("command", ["worker", "run"])
def test_an_unreachable_postgres_is_one_line_naming_the_host(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()  # nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://donor:s3cret-pw@127.0.0.1:{port}/modbot")
    monkeypatch.setenv("DISCORD_TOKEN", "a-token")  # `run` gets as far as the database
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert f"PostgreSQL at 127.0.0.1:{port}" in err and "Traceback" not in err
    assert "s3cret-pw" not in err


def test_worker_help_says_what_it_is_for_and_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["worker", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Lend this machine's GPU" in text
    assert "DATABASE_URL" in text and "OLLAMA_HOST" in text and "nothing connects in" in text
