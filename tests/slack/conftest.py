"""A whole `modbot run` on Slack: the real AsyncApp against the loopback fake Slack and Ollama."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.cli.run_cmd import serve
from bot.config import Settings
from tests.core_flow.conftest import stand_in
from tests.fakes import FakeOllama
from tests.fakes.slack_driver import SlackDriver
from tests.fakes.slack_server import ADMIN_TOKEN, APP_TOKEN, BOT_TOKEN, BOT_USER, FakeSlack

SECRET = "test-signing-secret"
ROOT, MIA, SAM, BOB = "U0ROOT", "U0MIA", "U0SAM", "U0BOB"
GENERAL, MODS = "C0GENERAL", "C0MODS"


def workspace(fake: FakeSlack) -> None:
    """root is a workspace admin; mia moderates (a member of the private #mod-queue); sam and bob chat."""
    fake.add_user(ROOT, "root", admin=True)
    for user, name in ((MIA, "mia"), (SAM, "sam"), (BOB, "bob")):
        fake.add_user(user, name)
    fake.add_channel(GENERAL, "general", {ROOT, MIA, SAM, BOB, BOT_USER})
    fake.add_channel(MODS, "mod-queue", {ROOT, MIA, BOT_USER}, private=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    fake: FakeSlack
    ollama: FakeOllama
    driver: SlackDriver


async def _listening(port: int) -> None:
    async with asyncio.timeout(20):
        while True:
            with contextlib.suppress(OSError):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                await writer.wait_closed()
                return
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, mode: str, *, admin_token: bool = True) -> AsyncIterator[Running]:
    """`serve()` as `modbot run` starts it, in Socket Mode or HTTP mode, until the test ends."""
    async with FakeSlack() as fake, FakeOllama(stand_in) as ollama:
        workspace(fake)
        port = free_port()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_app_token=SecretStr(APP_TOKEN if mode == "socket" else ""),
            slack_signing_secret=SecretStr(SECRET if mode == "http" else ""),
            slack_admin_user_token=SecretStr(ADMIN_TOKEN if admin_token else ""),
            slack_api_base_url=f"{fake.url}/api/",
            slack_host="127.0.0.1",
            slack_port=port,
            ollama_host=ollama.url,
            database_path=tmp_path / "modbot.db",
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop))
        try:
            if mode == "socket":
                await fake.wait_for(lambda: fake.connections or task.done(), 20)
            else:
                await _listening(port)
            assert not task.done(), task.result()
            url = f"http://127.0.0.1:{port}/slack/events" if mode == "http" else ""
            yield Running(fake, ollama, SlackDriver(fake, http_url=url, secret=SECRET))
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)
