"""Driving `modbot chat` from a test: a deterministic stand-in model and a scripted session."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot.cli import main
from tests.fakes import FakeOllama, Reply, verdict_json


def stand_in(body: dict[str, Any]) -> Reply:
    """A violation when the target mentions aimbot or nitro; otherwise allowed."""
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = "aimbot" in target or "nitro" in target
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "high", "Offers a cheat for sale."))


@contextmanager
def stand_in_ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOllama]:
    with FakeOllama(stand_in).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        yield fake


def chat(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str]) -> str:
    """Run `modbot chat` with these input lines; what it printed."""
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["chat"]) == 0
    return capsys.readouterr().out
