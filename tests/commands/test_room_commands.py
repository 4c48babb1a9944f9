"""The command set through the console room (`modbot chat`): what an admin and a moderator see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import POLICY_DIR
from tests.console import chat, stand_in_ollama
from tests.fakes import FakeOllama

TITLE = "Game cheating"


@pytest.fixture
def ollama(monkeypatch):
    with stand_in_ollama(monkeypatch) as fake:
        yield fake


def game_cheating_calls(ollama: FakeOllama) -> list[str]:
    """The targets sent to the model under the game-cheating policy (its prompt has its title)."""
    return [r["messages"][-1]["content"] for r in ollama.requests if TITLE in r["messages"][0]["content"]]


def test_admin_manages_policies_and_moderator_reads_figures(ollama, monkeypatch, capsys, tmp_path: Path):
    text = (POLICY_DIR / "game-cheating.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("severity: ", "severity: extreme # ", 1))
    edited = tmp_path / "game-cheating.yaml"
    edited.write_text(text.replace("kind: flag", "kind: delete").replace(f"title: {TITLE}", "title: Cheats"))
    assert "kind: delete" in edited.read_text()
    out = chat(monkeypatch, capsys, [
        "/as admin",
        "/setup show",
        "/policy scope game-cheating exclude=trading",
        "/channel trading",
        "/as sam",
        "anyone selling an aimbot here",
        "/channel general",
        "selling aimbot, dm me",
        "/as admin",
        f"/policy upload {broken}",
        "/as sam",
        "still selling that aimbot",
        "/as admin",
        "/policy edit game-cheating",
        f"/policy upload {edited}",
        "/policy history game-cheating",
        "/policy rollback game-cheating 1",
        "/policy show game-cheating",
        "/as mod",
        "/policy test game-cheating",
        "/check where can I buy an aimbot",
        "/stats game-cheating",
        "/policy disable game-cheating",
        "/quit",
    ])  # fmt: skip
    assert "setup is complete" in out and "mod channel: #mod-queue" in out
    assert "game-cheating's scope changed" in out and "every channel except #trading" in out
    # The message in #trading never reached the model under game-cheating; #general's did.
    sent = game_cheating_calls(ollama)
    assert any("selling aimbot, dm me" in s for s in sent)
    assert not any("anyone selling an aimbot here" in s for s in sent)
    assert re.search(r"broken\.yaml:\d+: severity: .*", out)
    assert "the version in force keeps running" in out
    assert any("still selling that aimbot" in s for s in sent)  # the old version still classifies
    assert "--- game-cheating.yaml" in out and "edit it and send it back with `policy upload`" in out
    assert "game-cheating saved as v2" in out
    assert re.search(r"v2\s+admin\s+.*uploaded", out)
    assert "game-cheating rolled back to v1 (now v3)" in out
    assert re.search(r"action: flag", out)  # the rollback brought back the flagging version
    assert re.search(r"game-cheating: \d+/\d+ examples pass", out)
    assert "1 of 7 policies say this breaks a rule" in out or "policies say this breaks a rule" in out
    # stats: 2 candidates (#general's messages), 2 model calls, 0 cache hits, 2 flags
    assert re.search(r"game-cheating\s+2\s+2\s+0\s+2\s+0\s+0\s+n/a\s+0/0", out), out
    assert "refused: policy disable: only server admins can do this" in out


def test_bad_input_is_refused_and_the_room_goes_on(ollama, monkeypatch, capsys):
    out = chat(monkeypatch, capsys, [
        "/as mod",
        "/remove ²",
        "/appeal 99999999999999999999999 please",
        "/as admin",
        "/policy mode game-cheating LIVE",
        "/policy mode game-cheating bogus",
        "/policy scope game-cheating include=<#bad id>",
        "/case 99999999999999999999999",
        "/policy enable 'unterminated",
        "/frobnicate",
        "still here",
        "/quit",
    ])  # fmt: skip
    assert "refused: /remove takes a case or appeal number" in out
    assert "refused: /appeal takes a case or appeal number" in out
    assert "game-cheating is now live" in out
    assert "mode must be one of live, shadow, off, not 'bogus'" in out
    assert "include must be a channels id" in out
    assert "id must be a whole number" in out
    assert "refused: unknown command 'frobnicate'" in out
    assert "[#general] admin: still here" in out
