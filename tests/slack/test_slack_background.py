"""Answers Slack waits for: in the ack when quick, another way when not; failures logged."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.platforms.slack.background import Background


async def test_a_quick_answer_is_returned_and_a_slow_one_delivered_later() -> None:
    background = Background()
    later: list[str] = []

    async def deliver(answer: str) -> None:
        later.append(answer)

    async def quick() -> str:
        return "ready"

    assert await background.within("quick", quick(), 5.0, deliver) == "ready" and later == []

    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "done at last"

    assert await background.within("slow", slow(), 0.0, deliver) is None  # the ack says "working"
    gate.set()
    await background.close()
    assert later == ["done at last"]


async def test_a_failing_task_is_logged_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()

    async def broken() -> None:
        raise RuntimeError("boom")

    background.spawn("the broken one", broken())
    await background.close()
    assert "slack: the broken one failed" in caplog.text and "boom" in caplog.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)
