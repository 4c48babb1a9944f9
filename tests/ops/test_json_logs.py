"""LOG_FORMAT=json: one object per line with ids and verdict fields; no message text, no secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.ops.logs import LIBRARIES, setup_logging
from tests.conftest import ROOT
from tests.fakes import Reply
from tests.ops.conftest import FLAGGED_TEXT, HARMLESS_TEXT, MOD, SPACE, message

DISCORD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
SLACK_BOT = "xoxb-1111-2222-abcdefghijkl"
API_KEY = "sk-tier2-very-secret"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {name: logging.getLogger(name).level for name in LIBRARIES}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lib_level in libraries.items():
        logging.getLogger(name).setLevel(lib_level)


def json_settings(**fields: object) -> Settings:
    defaults: dict[str, Any] = {
        "log_format": "json",
        "log_level": "DEBUG",
        "discord_token": SecretStr(DISCORD_TOKEN),
        "slack_bot_token": SecretStr(SLACK_BOT),
        "escalation_api_key": SecretStr(API_KEY),
    }
    return Settings(**(defaults | fields))


async def test_a_flag_and_a_decision_in_json_lines_without_text_or_tokens(bot, restore_logging):
    out = io.StringIO()
    setup_logging(json_settings(), stream=out)
    core = bot.runtime.core
    await core.submit(message(1, FLAGGED_TEXT))
    await core.submit(message(2, HARMLESS_TEXT))
    await core.settle()
    [flag, *_] = bot.platform.flags
    assert (await core.decide(flag.case_id, MOD, "remove")).ok
    await core.settle()
    # A model that answers by quoting the message (no verdict): the warning must not quote it.
    quoted = "aimbot for sale, zq-unique-quoted"
    bot.fake.responder = lambda body: Reply(f"The user wrote: {body['messages'][-1]['content'][-40:]}")
    await core.submit(message(9, quoted))
    for _ in range(100):
        if "unparseable" in out.getvalue():
            break
        await asyncio.sleep(0.05)
    assert "unparseable" in out.getvalue()
    # A library (or a careless line) that logs a secret or a token-shaped string is scrubbed too.
    logging.getLogger("bot.test").error("request to /gateway with %s failed", DISCORD_TOKEN)
    logging.getLogger("bot.test").warning("header Authorization: Bearer %s", "abcdefgh12345678")

    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) >= 4
    everything = out.getvalue()
    for secret in (DISCORD_TOKEN, SLACK_BOT, API_KEY, "abcdefgh12345678"):
        assert secret not in everything
    for text in (FLAGGED_TEXT, HARMLESS_TEXT, quoted, "zq-unique"):
        assert text not in everything
    assert {"ts", "level", "logger", "event"} <= records[0].keys()
    verdicts = [r for r in records if "violation" in r]
    flagged = [r for r in verdicts if r["violation"]]
    assert flagged and flagged[0]["space_id"] == SPACE and flagged[0]["policy_id"] == flag.policy_id
    assert isinstance(flagged[0]["job_id"], int) and flagged[0]["confidence"] == "high"
    assert any(not r["violation"] for r in verdicts)  # the harmless message's verdicts too
    cases = [r for r in records if r.get("case_id") == flag.case_id]
    assert {r["kind"] for r in cases} >= {"post_flag", "delete"}
    assert any("[redacted]" in r["event"] for r in records if r["logger"] == "bot.test")


def test_library_loggers_are_quiet_unless_asked(restore_logging):
    setup_logging(json_settings(), stream=io.StringIO())
    assert all(logging.getLogger(name).level == logging.WARNING for name in LIBRARIES)
    assert logging.getLogger().level == logging.DEBUG  # modbot's own lines at LOG_LEVEL
    setup_logging(json_settings(log_level="INFO"), verbose=True, stream=io.StringIO())
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("httpx").level == logging.DEBUG  # -v is asking
    assert logging.getLogger("aiosqlite").level == logging.INFO  # its DEBUG prints SQL parameters
    setup_logging(json_settings(log_libraries="DEBUG"), stream=io.StringIO())
    assert logging.getLogger("discord").level == logging.DEBUG  # asked for explicitly
    assert logging.getLogger("aiosqlite").level == logging.INFO  # message text: never


def test_text_format_is_scrubbed_too(restore_logging):
    out = io.StringIO()
    setup_logging(Settings(discord_token=SecretStr(DISCORD_TOKEN)), stream=out)
    logging.getLogger("bot.test").warning("login with %s", DISCORD_TOKEN)
    assert DISCORD_TOKEN not in out.getvalue() and "login with [redacted]" in out.getvalue()


def test_the_command_line_writes_json_lines_to_stderr(tmp_path):
    # The real entry point, in its own process: basicConfig's handler gets the JSON format.
    env = os.environ | {"LOG_FORMAT": "json", "DISCORD_TOKEN": DISCORD_TOKEN, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-m", "bot", "-v", "doctor", "--no-classify"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = [line for line in child.stderr.splitlines() if line.strip()]
    assert lines, child.stderr
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "event"} <= r.keys() for r in records)
    assert DISCORD_TOKEN not in child.stderr + child.stdout
