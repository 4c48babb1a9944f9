"""`modbot doctor` against loopback fakes: one test per failure mode, with its line and its fix."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cli import main
from bot.config import Settings
from bot.ops.doctor import Check, run_checks
from bot.store import Store
from bot.store.migrate import packaged_migrations
from tests.conftest import POLICY_DIR
from tests.fakes import FakeOllama, FakeOpenAI, Reply, verdict_json
from tests.ops.platform_fakes import (
    BOT_PERMS,
    EMBED,
    FakeDiscordREST,
    FakeSlackAPI,
    Guild,
)

DISCORD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
SLACK_BOT = "xoxb-1111-2222-abcdefghijkl"
SLACK_APP = "xapp-1-A111-2222-abcdef0123"
ALL_SCOPES = {"channels:history", "groups:history", "chat:write", "im:write", "users:read", "commands"}


async def doctor(**fields: Any) -> dict[str, Check]:
    checks = await run_checks(Settings(**fields))
    by_name = {c.name: c for c in checks}
    assert len(by_name) == len(checks), "check names are unique"
    return by_name


def failed(check: Check, *words: str) -> None:
    """The line a volunteer reads: FAIL, what is wrong, and a fix naming what to do."""
    line = check.line()
    assert line.startswith(f"FAIL {check.name}: "), line
    assert " -> fix: " in line
    for word in words:
        assert word in line, (word, line)


@pytest.fixture
async def ollama():
    async with FakeOllama() as fake:
        yield fake


@pytest.fixture
async def discord():
    guild = Guild("5000", mod_channel="5001")
    async with FakeDiscordREST(DISCORD_TOKEN, guilds=(guild,)) as fake:
        yield fake


@pytest.fixture
def base(ollama, discord, tmp_path: Path) -> dict[str, Any]:
    return {
        "ollama_host": ollama.url,
        "discord_token": SecretStr(DISCORD_TOKEN),
        "discord_api_base_url": discord.base,
        "database_path": tmp_path / "data" / "modbot.db",
    }


async def set_up_mod_channel(path: Path, guild: str = "5000", channel: str = "5001") -> None:
    async with await Store.open(path) as store:
        await store.spaces.upsert(guild, "discord", "test server", mod_channel_id=channel)


# -- everything fine ------------------------------------------------------------------------------


async def test_all_checks_pass_against_healthy_fakes(base):
    await set_up_mod_channel(base["database_path"])
    checks = await doctor(**base)
    assert [c.line() for c in checks.values() if not c.ok] == []
    assert checks["model.classify"].status == "ok"
    assert (
        "no violation" in checks["model.classify"].detail
        and "s end to end" in checks["model.classify"].detail
    )
    assert checks["discord.permissions[test server]"].status == "ok"
    assert checks["escalation"].status == "skip" and checks["slack"].status == "skip"


def test_cli_exit_code_is_zero_only_when_every_check_passes(monkeypatch, capsys, tmp_path):
    with FakeOllama().in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "m.db"))
        assert main(["doctor"]) == 1  # no platform token
        out = capsys.readouterr().out
        assert "FAIL settings.platforms: no platform token is set -> fix: set DISCORD_TOKEN" in out
        assert out.strip().splitlines()[-1] == "doctor: 8 ok, 3 skipped, 1 failed"
        with FakeSlackAPI(SLACK_BOT, ALL_SCOPES, SLACK_APP).in_thread() as slack:
            monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT)
            monkeypatch.setenv("SLACK_APP_TOKEN", SLACK_APP)
            monkeypatch.setenv("SLACK_API_BASE_URL", slack.base)
            assert main(["doctor"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "ok   slack.scopes: all 6 scopes granted" in out
    assert SLACK_BOT not in out and SLACK_APP not in out


# -- settings ------------------------------------------------------------------------------------


def test_a_malformed_setting_is_a_failed_line_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("OLLAMA_SLOTS", "many")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL settings.OLLAMA_SLOTS: " in out and "'many'" in out
    assert "-> fix: set it in .env (every setting is explained in .env.example)" in out


async def test_no_platform_configured(base):
    checks = await doctor(**(base | {"discord_token": SecretStr("")}))
    failed(checks["settings.platforms"], "no platform token", "DISCORD_TOKEN or SLACK_BOT_TOKEN")


async def test_urls_that_do_not_parse(base):
    checks = await doctor(**(base | {"slack_api_base_url": "https://slack.example/api"}))
    failed(checks["settings.urls"], "SLACK_API_BASE_URL must end with /")
    checks = await doctor(**(base | {"escalation_url": "gpu-box:8000"}))
    failed(checks["settings.urls"], "ESCALATION_URL is not an http(s) URL")


async def test_slack_tokens_of_the_wrong_kind(base):
    checks = await doctor(**(base | {"slack_bot_token": SecretStr("xoxp-user-token")}))
    failed(checks["settings.slack"], "Bot User OAuth Token (xoxb-", "SLACK_APP_TOKEN (Socket Mode)")


async def test_a_broken_policy_folder(base, tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "bad.yaml").write_text("id: Bad Id\nversion: 1\n")
    checks = await doctor(**(base | {"policy_dir": folder}))
    failed(checks["settings.policies"], "bad.yaml:1:", f"modbot policy lint {folder}")
    assert checks["model.classify"].status == "skip"  # nothing to classify with


# -- Ollama and the model ------------------------------------------------------------------------


async def test_ollama_unreachable(base):
    checks = await doctor(**(base | {"ollama_host": "http://127.0.0.1:9"}))
    failed(checks["ollama.reachable"], "cannot reach Ollama at http://127.0.0.1:9", "OLLAMA_HOST")
    assert checks["model.classify"].status == "skip"


async def test_ollama_too_old_for_structured_output(base, ollama):
    ollama.version = "0.11.10"
    checks = await doctor(**base)
    failed(checks["ollama.version"], "0.11.10 is older than 0.12.4", "upgrade Ollama to 0.12.4")


async def test_model_not_pulled(base, ollama):
    ollama.models = {"llama3:8b"}
    checks = await doctor(**base)
    failed(
        checks["ollama.model"], "gpt-oss-safeguard:20b is not pulled", "`ollama pull gpt-oss-safeguard:20b`"
    )
    assert ollama.requests == []  # no classification was tried


async def test_context_too_short_for_the_longest_policy(base):
    checks = await doctor(**(base | {"ollama_num_ctx": 2048}))
    failed(checks["ollama.context"], "more than num_ctx 2048", "raise OLLAMA_NUM_CTX to at least")
    assert "scams-phishing" in checks["ollama.context"].detail  # the library's longest prompt


async def test_context_counts_a_spaces_own_longer_policy(base):
    # A space uploaded a long policy of its own: its prompt, not the library's, sets the need.
    text = (POLICY_DIR / "game-cheating.yaml").read_text()
    long = text.replace("id: game-cheating", "id: house-rules").replace(
        "definitions:\n", "definitions:\n  filler: " + "lorem ipsum dolor sit amet " * 1000 + "\n"
    )
    async with await Store.open(base["database_path"]) as store:
        await store.policies.save_version("5000", "house-rules", long, "h", "admin", mode="live")
    checks = await doctor(**base)
    failed(checks["ollama.context"], "house-rules", "raise num_ctx in 5000:house-rules")


async def test_context_longer_than_the_model_supports(base, ollama):
    ollama.context_length = 4096
    checks = await doctor(**base)
    failed(checks["ollama.context"], "num_ctx 8192 is more than the model's 4096", "to 4096 or less")


async def test_model_flags_the_harmless_text(base, ollama):
    ollama.responder = lambda body: Reply(verdict_json(1, ["FR1"], rationale="looks paid"))
    checks = await doctor(**base)
    failed(checks["model.classify"], "harmless message was flagged", "modbot policy test fake-reviews")


async def test_model_answers_nothing_usable(base, ollama):
    ollama.responder = lambda body: Reply("")
    checks = await doctor(**base)
    failed(checks["model.classify"], "no verdict", "empty", "OLLAMA_JSON_FORMAT=false")


async def test_model_too_slow(base, ollama):
    ollama.responder = lambda body: Reply(delay_s=2.0)
    checks = await doctor(**(base | {"ollama_timeout_s": 0.3}))
    failed(checks["model.classify"], "timeout", "raise OLLAMA_TIMEOUT_S")


# -- escalation ----------------------------------------------------------------------------------


async def test_escalation_endpoint_unreachable(base):
    checks = await doctor(**(base | {"escalation_url": "http://127.0.0.1:9"}))
    failed(checks["escalation"], "cannot reach http://127.0.0.1:9/v1", "ESCALATION_URL")


async def test_escalation_key_refused_and_model_not_served(base):
    async with FakeOpenAI(api_key="right-key") as vllm:
        checks = await doctor(
            **(base | {"escalation_url": vllm.url, "escalation_api_key": SecretStr("wrong")})
        )
        failed(checks["escalation"], "refused the key (401)", "ESCALATION_API_KEY")
        checks = await doctor(
            **(base | {"escalation_url": vllm.url, "escalation_api_key": SecretStr("right-key"),
                       "escalation_model": "gpt-oss-120b"})
        )  # fmt: skip
        failed(
            checks["escalation"],
            "not gpt-oss-120b",
            "ESCALATION_MODEL to one of: openai/gpt-oss-safeguard-120b",
        )
        checks = await doctor(
            **(base | {"escalation_url": vllm.url, "escalation_api_key": SecretStr("right-key")})
        )
        assert (
            checks["escalation"].line()
            == f"ok   escalation: {vllm.url}/v1 serves openai/gpt-oss-safeguard-120b"
        )


# -- database ------------------------------------------------------------------------------------


async def test_database_folder_not_writable(base, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    checks = await doctor(**(base | {"database_path": blocker / "modbot.db"}))
    failed(checks["database"], "cannot open", "writable by the bot's user")


async def test_database_from_a_newer_modbot(base):
    path = base["database_path"]
    async with await Store.open(path) as store:
        await store.db.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)"
        )
    checks = await doctor(**base)
    newest = max(m.version for m in packaged_migrations())
    failed(checks["database"], f"schema 99, this modbot expects {newest}", "restore a backup")


async def test_database_url_unreachable_is_named_without_its_password(base):
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://modbot:hunter2-secret@127.0.0.1:{port}/modbot"
    checks = await doctor(**(base | {"database_url": SecretStr(url)}))
    failed(checks["database"], "cannot open", f"127.0.0.1:{port}/modbot", "DATABASE_URL")
    assert "hunter2-secret" not in checks["database"].line()


# -- Discord -------------------------------------------------------------------------------------


async def test_discord_token_refused(base):
    checks = await doctor(**(base | {"discord_token": SecretStr(DISCORD_TOKEN[:-3] + "xyz")}))
    failed(checks["discord.token"], "refused the token (401)", "DISCORD_TOKEN")
    assert "discord.intent" not in checks


async def test_discord_message_content_intent_off(base, discord):
    discord.app_flags = 1 << 23  # some other flag
    checks = await doctor(**base)
    failed(checks["discord.intent"], "message content intent is off", "MESSAGE CONTENT INTENT")


async def test_discord_permissions_missing_in_the_mod_channel(base, discord):
    await set_up_mod_channel(base["database_path"])
    discord.guilds["5000"].overwrites = [{"id": "777", "type": 0, "allow": "0", "deny": str(EMBED)}]
    checks = await doctor(**base)
    failed(
        checks["discord.permissions[test server]"],
        "missing Embed Links in #mod-queue",
        "#mod-queue -> Edit Channel",
    )
    discord.guilds["5000"].overwrites = []
    discord.guilds["5000"].bot_role_perms = BOT_PERMS & ~(1 << 40)
    checks = await doctor(**base)
    failed(
        checks["discord.permissions[test server]"],
        "missing Moderate Members server-wide",
        "Roles -> the bot's role: allow Moderate Members",
    )


async def test_discord_bot_not_in_the_server(base):
    await set_up_mod_channel(base["database_path"], guild="6000")
    checks = await doctor(**base)
    failed(checks["discord.permissions[test server]"], "not in server 6000", "invite the bot again")


# -- Slack ---------------------------------------------------------------------------------------


async def test_slack_token_refused(base):
    async with FakeSlackAPI("xoxb-the-real-one-1234", ALL_SCOPES) as slack:
        fields = base | {"slack_bot_token": SecretStr(SLACK_BOT), "slack_app_token": SecretStr(SLACK_APP),
                         "slack_api_base_url": slack.base}  # fmt: skip
        checks = await doctor(**fields)
    failed(checks["slack.token"], "refused SLACK_BOT_TOKEN: invalid_auth", "Bot User OAuth Token")


async def test_slack_scopes_missing_and_app_token_refused(base):
    async with FakeSlackAPI(SLACK_BOT, ALL_SCOPES - {"im:write", "commands"}, "xapp-other-999999") as slack:
        fields = base | {"slack_bot_token": SecretStr(SLACK_BOT), "slack_app_token": SecretStr(SLACK_APP),
                         "slack_api_base_url": slack.base}  # fmt: skip
        checks = await doctor(**fields)
    failed(checks["slack.scopes"], "im:write (DM members about decisions)", "commands (the /modbot command)",
           "add im:write, commands")  # fmt: skip
    failed(checks["slack.app_token"], "refused SLACK_APP_TOKEN", "connections:write")
