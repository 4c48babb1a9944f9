"""Bad bytes, nulls and a dead model end in one clear line, never a traceback or lost work."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli import main
from tests.conftest import ROOT
from tests.fakes import FakeOllama, Reply, verdict_json

SAMPLE = ROOT / "examples" / "chat-sample.jsonl"


def stand_in(body: dict) -> Reply:
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = "aimbot" in target
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "high", "Offers a cheat for sale."))


@pytest.fixture
def ollama(monkeypatch):
    with FakeOllama(stand_in).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        yield fake


def test_replay_of_lone_surrogates_classifies_every_line(ollama, tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    rows = [
        {"id": "1", "text": "selling aimbot \ud800 dm me"},  # json.dumps writes the \\ud800 escape
        {"id": "2", "text": "gg \udcff all", "author": "x\udc80y"},
        {"id": "3", "text": "selling aimbot again"},
    ]
    log.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["replay", str(log), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["messages"] == 3 and summary["no_answer"] == 0
    assert summary["flags_per_policy"]["game-cheating"] == 2
    sent = [r["messages"][-1]["content"] for r in ollama.requests]
    assert any("selling aimbot \ufffd dm me" in text for text in sent)


def test_chat_survives_a_line_of_invalid_bytes(ollama, monkeypatch, capsys):
    raw = b"/as sam\nselling aimbot \xff\xfe dm me\nselling aimbot \xed\xa0\x80 again\n/quit\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
    assert main(["chat", "--db", ":memory:"]) == 0
    out = capsys.readouterr().out
    assert "sam: selling aimbot \ufffd\ufffd dm me" in out
    assert "🚩 case #2" in out  # the line after the bad one was classified too


def test_check_accepts_text_with_a_lone_surrogate(ollama, capsys):
    assert main(["check", "--policy", "game-cheating", "selling aimbot \udcff"]) == 0
    assert json.loads(capsys.readouterr().out)["violation"] is True


def test_replay_rejects_non_utf8_with_its_line(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    log.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    assert main(["replay", str(log)]) == 2
    assert f"{log}:2: not UTF-8 text (byte 0xe9 at column 14)" in capsys.readouterr().err


def test_replay_rejects_null_text_instead_of_classifying_none(tmp_path, capsys):
    log = tmp_path / "log.jsonl"
    log.write_text('{"text": "ok"}\n{"text": null}\n')
    assert main(["replay", str(log)]) == 2
    assert f'{log}:2: "text" must be a string, not null' in capsys.readouterr().err


def test_replay_and_chat_use_database_path(ollama, tmp_path, monkeypatch, capsys):
    db = tmp_path / "data" / "bot.db"
    monkeypatch.setenv("DATABASE_PATH", str(db))
    assert main(["replay", str(SAMPLE), "--json"]) == 0
    assert db.exists()
    capsys.readouterr()
    # The same log again: every message is a redelivery of one already stored.
    assert main(["replay", str(SAMPLE), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["duplicates"] == again["candidates"] and again["model_calls"] == 0
    chat_db = tmp_path / "chat.db"
    monkeypatch.setenv("DATABASE_PATH", str(chat_db))
    monkeypatch.setattr("sys.stdin", io.StringIO("selling aimbot\n/quit\n"))
    assert main(["chat"]) == 0
    assert chat_db.exists()


def test_replay_with_a_dead_model_says_so_and_resumes(tmp_path, monkeypatch, capsys):
    db = tmp_path / "replay.db"
    monkeypatch.setenv("OLLAMA_TIMEOUT_S", "0.5")
    # OLLAMA_HOST points at a port where nothing listens (tests' default).
    assert main(["replay", str(SAMPLE), "--db", str(db)]) == 3
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    lines = [line for line in captured.err.splitlines() if line.startswith("modbot:")]
    assert lines[0].startswith("modbot: the model stopped answering (connection: cannot reach Ollama")
    queued = int(lines[1].split()[1])
    assert queued >= 1 and f"are kept in {db}: run the same command again" in lines[1]
    with FakeOllama(stand_in).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        assert main(["replay", str(SAMPLE), "--db", str(db), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["no_answer"] == 0 and summary["flags_per_policy"]["game-cheating"] >= 1
    # Every queued classification was done (some from the cache), none dropped.
    assert fake.requests and summary["model_calls"] + summary["cache_hits"] >= queued


def test_replay_with_a_silent_model_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OLLAMA_TIMEOUT_S", "0.3")
    with FakeOllama(lambda body: Reply(delay_s=30)).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        assert main(["replay", str(SAMPLE), "--db", str(tmp_path / "r.db")]) == 3
    err = capsys.readouterr().err
    assert "modbot: the model stopped answering (timeout: no answer from Ollama within 0.3s)" in err


def test_replay_in_memory_says_nothing_was_kept(monkeypatch, capsys):
    monkeypatch.setenv("OLLAMA_TIMEOUT_S", "0.5")
    assert main(["replay", str(SAMPLE), "--db", ":memory:"]) == 3
    assert "were queued in memory and are lost: use --db FILE" in capsys.readouterr().err
