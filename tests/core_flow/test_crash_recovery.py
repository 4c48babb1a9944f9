"""kill -9 in the middle of classification: a restart finishes everything, flags once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.core_flow.conftest import Env
from tests.core_flow.file_platform import FilePlatform
from tests.fakes import Reply, verdict_json

N = 12


async def test_kill_9_mid_classification_loses_nothing_and_flags_once(env: Env, tmp_path: Path):
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"]), delay_s=0.15)
    cards = tmp_path / "cards.jsonl"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.core_flow.crash_child",
        env.fake.url, str(env.db_path), str(cards), str(N),
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 60)
    assert line.strip() == b"submitted"
    platform = FilePlatform(cards)
    # Wait until some flags are out and a classification is in flight, then pull the plug.
    async with asyncio.timeout(60):
        while len(platform.cards()) < 3 or env.fake.active == 0:
            await asyncio.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    await child.wait()
    before = len(platform.cards())
    assert 3 <= before < N

    env.platform = platform  # type: ignore[assignment]
    env.fake.responder = lambda body: Reply(verdict_json(1, ["GC1"]))
    core = await env.start()
    await core.settle(timeout_s=60)

    flagged = [str(card["message_id"]) for card in platform.cards()]
    assert sorted(flagged, key=int) == [str(i) for i in range(N)]  # nothing lost, nothing twice
    counts = await env.store.inbox.counts()
    assert counts["done"] == N and counts["pending"] == counts["leased"] == 0
    cases = await env.store.cases.list("guild-1", limit=100)
    assert len(cases) == N and all(c.flag_ref for c in cases)
