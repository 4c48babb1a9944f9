"""What a volunteer sees when the bot starts: first-run help, or the doctor's summary in the log."""

from __future__ import annotations

import logging

from pydantic import SecretStr

from bot.cli import main
from bot.config import Settings
from bot.ops.startup import log_startup_checks
from tests.fakes import FakeOllama


def test_first_run_with_an_empty_env_says_what_to_fill_in(tmp_path, monkeypatch, capsys):
    (tmp_path / ".env").write_text("")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) <= 8  # a few lines, not a traceback
    for hint in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "OLLAMA_HOST", "modbot chat", "modbot doctor"):
        assert hint in err


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
