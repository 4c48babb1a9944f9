"""What a volunteer sees when the bot starts: first-run help, or the doctor's summary in the log."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys

from pydantic import SecretStr

from bot.config import Settings
from bot.ops.startup import first_run, log_startup_checks, operations
from tests.conftest import ROOT
from tests.fakes import FakeOllama


def test_first_run_with_an_empty_env_says_what_to_fill_in(tmp_path):
    # What `bash scripts/run` runs before `modbot run`, in a folder with an empty .env.
    (tmp_path / ".env").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    child = subprocess.run(
        [sys.executable, "-m", "bot.ops.startup"], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert child.returncode == 2
    lines = child.stderr.strip().splitlines()
    assert len(lines) <= 8  # a few lines, not a traceback
    for hint in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "OLLAMA_HOST", "modbot chat", "modbot doctor"):
        assert hint in child.stderr


def test_first_run_stays_quiet_once_a_platform_is_set(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    assert first_run() == 0
    assert capsys.readouterr().err == ""


async def test_startup_logs_one_line_per_check_and_warns_for_failures(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="bot.doctor")
    async with FakeOllama() as fake:
        settings = Settings(
            ollama_host=fake.url,
            database_path=tmp_path / "m.db",
            discord_token=SecretStr("not-a-real-token"),
            discord_api_base_url="http://127.0.0.1:9/api/v10",  # Discord unreachable
        )
        checks = await log_startup_checks(settings)
    lines = [r for r in caplog.records if r.name == "bot.doctor"]
    assert [r.getMessage() for r in lines[: len(checks)]] == [c.line() for c in checks]
    failing = [r for r in lines if r.levelno == logging.WARNING]
    assert any("discord.token" in r.getMessage() for r in failing)
    assert "starting with 1 failed checks (discord.token)" in failing[-1].getMessage()
    assert any(r.getMessage().startswith("ok   model.classify:") for r in lines)


async def test_operations_log_the_summary_then_serve_health(bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.doctor")
    async with operations(bot.settings, bot.runtime.core, {"test": lambda: True}) as endpoint:
        assert endpoint is not None
        ready, parts = await endpoint.readiness()
        # The summary is logged beside intake, not before it: wait for it.
        async with asyncio.timeout(20):
            while not any(r.getMessage().startswith("ok   ollama.model:") for r in caplog.records):
                await asyncio.sleep(0.05)
    assert ready and parts == {"model": "ready", "test": "connected"}
