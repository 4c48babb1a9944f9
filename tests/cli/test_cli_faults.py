"""Storage faults and secrets: one clear line for the admin, and no key or message text in logs."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from tests.conftest import ROOT
from tests.fakes import FakeOllama, FakeOpenAI, Reply, verdict_json

SAMPLE = ROOT / "examples" / "chat-sample.jsonl"


def run_replay(db: Path, capsys) -> tuple[int, str]:
    code = main(["replay", str(SAMPLE), "--db", str(db)])
    return code, capsys.readouterr().err


def test_a_file_that_is_not_a_database_is_one_line(tmp_path, capsys):
    db = tmp_path / "notes.db"
    db.write_text("shopping list: milk, eggs\n" * 50)
    code, err = run_replay(db, capsys)
    assert code == 2 and "Traceback" not in err
    assert (
        err == f"modbot: {db} is not a modbot database: point DATABASE_PATH at the right file, "
        "or move this one away to start a new one\n"
    )


def _overwrite_second_page(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\x07" * 4096  # the second page: tables of the schema
    db.write_bytes(bytes(data))


async def _damaged(db: Path) -> None:
    store = await Store.open(db)
    await store.close()
    await asyncio.to_thread(_overwrite_second_page, db)


async def test_a_damaged_database_is_one_line(tmp_path, capsys):
    db = tmp_path / "modbot.db"
    await _damaged(db)
    from bot.store.faults import explain

    with pytest.raises(sqlite3.DatabaseError) as info:
        await Store.open(db)
    assert explain(info.value, str(db)).startswith(f"{db} is damaged: restore it from a backup")


def test_a_damaged_database_through_the_cli(tmp_path, capsys):
    db = tmp_path / "modbot.db"
    asyncio.run(_damaged(db))
    code, err = run_replay(db, capsys)
    assert code == 2 and err.startswith(f"modbot: {db} is damaged") and "Traceback" not in err


def test_a_folder_as_database_path_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path))
    assert main(["replay", str(SAMPLE)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"modbot: cannot open {tmp_path}: check that the path is a file")


def test_a_database_path_under_a_file_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("not a folder")
    db = tmp_path / "notes.txt" / "modbot.db"
    monkeypatch.setenv("DATABASE_PATH", str(db))
    assert main(["replay", str(SAMPLE)]) == 2
    assert capsys.readouterr().err.startswith(f"modbot: cannot open {db}: check that the path is a file")


def test_read_only_and_full_disk_are_explained(tmp_path):
    # Real errors from SQLite itself (the tests may run as root, which ignores file modes).
    from bot.store.faults import explain

    path = tmp_path / "x.db"
    sqlite3.connect(path).close()
    ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as info:
        ro.execute("CREATE TABLE t (x)")
    assert explain(info.value, "x.db").startswith("x.db is read-only: give modbot write access")
    full = sqlite3.connect(path)
    full.execute("CREATE TABLE t (x)")
    full.execute(f"PRAGMA max_page_count = {full.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as info:
        full.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 50)
    assert explain(info.value, "x.db").startswith("the disk holding x.db is full: free some space")


KEY = "sk-live-0123456789abcdef"


def test_an_error_body_echoing_the_key_is_redacted_in_log_and_store(tmp_path, monkeypatch, capsys, caplog):
    echo = f'bad credentials; request headers: {{"Authorization": "Bearer {KEY}"}} key={KEY}'
    db = tmp_path / "r.db"
    with (
        FakeOllama(lambda body: Reply(verdict_json(1, ["GC1"], "low", "unsure"))).in_thread() as ollama,
        FakeOpenAI(lambda body: Reply(status=401, error=echo)).in_thread() as tier2,
    ):
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setenv("ESCALATION_URL", tier2.url)
        monkeypatch.setenv("ESCALATION_API_KEY", KEY)
        caplog.set_level(logging.DEBUG)
        main(["replay", str(SAMPLE), "--db", str(db)])
    assert tier2.requests  # tier 2 was asked, and refused
    out = capsys.readouterr()
    assert KEY not in caplog.text and KEY not in out.err and KEY not in out.out
    assert "Bearer [redacted]" in caplog.text
    stored = sqlite3.connect(db)
    dump = "\n".join(stored.iterdump())
    assert KEY not in dump and "[redacted]" in dump


def test_a_key_in_escalation_url_is_not_logged_by_httpx(monkeypatch, capsys, caplog):
    with (
        FakeOllama(lambda body: Reply(verdict_json(1, ["GC1"], "low", "unsure"))).in_thread() as ollama,
        FakeOpenAI(lambda body: Reply(verdict_json(1, ["GC1"], "high", "sells"))).in_thread() as tier2,
    ):
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setenv("ESCALATION_URL", f"{tier2.url}?api_key={KEY}")
        caplog.set_level(logging.DEBUG)
        main(["-v", "check", "--policy", "game-cheating", "--escalate", "selling aimbot"])
    assert "HTTP Request: POST" in caplog.text  # httpx did log the request
    assert KEY not in caplog.text and "api_key=[redacted]" in caplog.text


def test_debug_logging_keeps_message_text_out(monkeypatch, tmp_path, capsys, caplog):
    log = tmp_path / "log.jsonl"
    log.write_text('{"text": "my private phone is 555-0199, call me about the aimbot"}\n')
    with FakeOllama(lambda body: Reply(verdict_json(0))).in_thread() as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.url)
        monkeypatch.setenv("LOG_LEVEL", "DEBUG")
        caplog.set_level(logging.DEBUG)
        assert main(["replay", str(log), "--db", str(tmp_path / "r.db")]) == 0
    assert ollama.requests
    assert "555-0199" not in caplog.text
