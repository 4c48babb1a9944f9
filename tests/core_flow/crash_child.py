"""Run a moderation core in a child process until the test kills it with SIGKILL.

argv: OLLAMA_URL DB_PATH CARDS_FILE N_MESSAGES
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.core.tokens import TokenCounter, load_encoding
from tests.core_flow.conftest import Env, message
from tests.core_flow.file_platform import FilePlatform


class _Fake:  # only the URL of the parent's fake server is needed here
    def __init__(self, url: str) -> None:
        self.url = url


async def main(url: str, db: Path, cards: Path, n: int) -> None:
    env = Env(_Fake(url), FilePlatform(cards), db, TokenCounter(load_encoding()))  # type: ignore[arg-type]
    core = await env.start()
    await env.install("guild-1", "game-cheating")
    for i in range(n):
        await core.submit(message(i, f"selling aimbot {i}"))
    print("submitted", flush=True)  # every message is on disk now
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
