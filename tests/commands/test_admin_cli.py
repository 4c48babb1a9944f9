"""`modbot admin`: the command set from a shell, against the database, with no platform."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import POLICY_DIR
from tests.fakes import FakeOllama, Reply, verdict_json


def stand_in(body: dict) -> Reply:
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = "aimbot" in target
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "high", "Offers a cheat for sale."))


@pytest.fixture
def ollama(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "modbot.db"))
    with FakeOllama(stand_in).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        yield fake


def admin(capsys, *argv: str) -> tuple[int, str]:
    code = main(["admin", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_set_up_enable_list_show(ollama, capsys):
    code, out = admin(capsys, "setup", "--space", "123", "--mod-channel", "456", "--platform", "discord")
    assert code == 0 and "mod channel: <#456>" in out and "missing: an enabled policy" in out
    code, out = admin(capsys, "policy", "enable", "--space", "123", "--policy", "game-cheating")
    assert code == 0 and "game-cheating saved as v1 (live)" in out
    code, out = admin(capsys, "policy", "list", "--space", "123", "--json")
    listed = json.loads(out)
    rows = {row[0]: row for row in listed["table"]["rows"]}
    assert rows["game-cheating"][3:5] == ["v1", "live"] and rows["harassment"][4] == "not enabled"
    code, out = admin(capsys, "setup", "show", "--space", "123")
    assert code == 0 and "setup is complete" in out and "game-cheating (live)" in out


def test_broken_upload_is_refused_with_its_line_and_the_old_version_stays(ollama, capsys, tmp_path):
    admin(capsys, "policy", "enable", "--space", "9", "--policy", "game-cheating", "--platform", "slack")
    broken = tmp_path / "game-cheating.yaml"
    text = (POLICY_DIR / "game-cheating.yaml").read_text()
    broken.write_text(text.replace("severity: ", "severity: extreme # ", 1))
    code, out = admin(capsys, "policy", "upload", "--space", "9", "--file", str(broken))
    assert code == 1
    assert re.search(r"game-cheating\.yaml:\d+: severity: ", out), out
    assert "the version in force keeps running" in out
    code, out = admin(capsys, "policy", "history", "--space", "9", "--policy", "game-cheating")
    assert code == 0 and "1 version(s)" in out


def test_refusals_and_bad_values_exit_non_zero_without_a_traceback(ollama, capsys):
    admin(capsys, "policy", "enable", "--space", "9", "--policy", "game-cheating", "--platform", "slack")
    code, out = admin(capsys, "case", "--space", "9", "--id", "99999999999999999999999")
    assert code == 1 and "id must be a whole number" in out and "Traceback" not in out
    code, out = admin(capsys, "policy", "mode", "--space", "9", "--policy", "game-cheating", "--mode", "LOUD")
    assert code == 1 and "mode must be one of live, shadow, off" in out
    code, out = admin(capsys, "policy", "upload", "--space", "9", "--file", "/nonexistent/p.yaml")
    assert code == 2 and "cannot read" in out
    code, out = admin(capsys, "setup", "--space", "new-space", "--mod-channel", "1")
    assert code == 1 and "--platform" in out
