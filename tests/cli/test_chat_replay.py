"""`modbot chat` through its input and output, and `modbot replay` on the sample log."""

from __future__ import annotations

import json
import re

import pytest

from bot.cli import main
from tests.conftest import ROOT
from tests.console import chat, stand_in_ollama


@pytest.fixture
def ollama(monkeypatch):
    with stand_in_ollama(monkeypatch) as fake:
        yield fake


def test_chat_flag_act_and_appeal(ollama, monkeypatch, capsys):
    out = chat(
        monkeypatch,
        capsys,
        [
            "/as sam",
            "selling aimbot, dm me",
            "gg all",
            "/remove 1",  # sam is a member: refused
            "/as mod",
            "/remove 1",
            "/as eve",
            "/appeal 1 it was not him",  # not eve's case
            "/as sam",
            "/appeal 1 I was joking with a friend",
            "/as mod",
            "/overturn 1",
            "/audit",
            "/stats",
            "/quit",
        ],
    )
    assert "[#general] sam: selling aimbot, dm me" in out
    assert re.search(r"🚩 case #1 \[open\] .*game-cheating GC1", out)
    assert "why: Offers a cheat for sale." in out
    assert "refused: only moderators can act on flags" in out
    assert "ok: case #1 removed" in out
    assert "message 1 was removed" in out or "message m1 was removed" in out
    assert "[DM to sam]" in out and "/appeal 1" in out
    assert "refused: you can only appeal decisions about your own messages" in out
    assert "ok: your appeal was sent to the moderators" in out
    assert "appeal by the author: “I was joking with a friend”" in out
    assert "ok: appeal #1 overturned" in out
    assert "accepted: the action was overturned" in out
    assert re.search(r"@eve\s+member\s+appeal.create\s+case:1\s+REFUSED", out)
    # The case was removed, then overturned on appeal: a false positive for the policy's figures.
    # candidates, model calls, cache hits, flags, confirmed, dismissed, precision, appeals up/over
    assert re.search(r"game-cheating\s+1\s+1\s+0\s+1\s+0\s+1\s+0%\s+0/1", out)
    assert out.count("🚩 case #1 [open]") == 1  # flagged once
    sent = [r["messages"][-1]["content"] for r in ollama.requests]
    assert sent and all("selling aimbot" in text for text in sent)  # "gg all" never reached the model


def test_chat_help_and_unknown_command(ollama, monkeypatch, capsys):
    out = chat(monkeypatch, capsys, ["/help", "/frobnicate", "/quit"])
    assert "/appeal N WHY" in out and "unknown command 'frobnicate'" in out


def test_replay_sample_log_summary(ollama, capsys):
    code = main(["replay", str(ROOT / "examples" / "chat-sample.jsonl"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["messages"] == 13
    assert summary["duplicates"] >= 1  # message 6 is delivered twice
    assert summary["cache_hits"] >= 1  # the nitro flood differs only in case
    assert summary["model_calls"] == len(ollama.requests) < summary["candidates"]
    assert summary["flags_per_policy"].get("game-cheating", 0) >= 1
    assert summary["no_answer"] == 0


def test_replay_bad_line_is_a_clear_error(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    log.write_text('{"text": "ok"}\nnot json\n')
    assert main(["replay", str(log)]) == 2
    assert f"{log}:2:" in capsys.readouterr().err
