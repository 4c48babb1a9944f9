"""A real runtime (bot.app.build_runtime): shipped policies, a stand-in model, a recording platform."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime, install_library
from bot.config import Settings
from bot.core.messages import IncomingMessage
from bot.core.ports import Actor
from tests.core_flow.conftest import stand_in

try:  # the shared recording platform; older trees kept it in the core-flow fixtures
    from tests.fakes.recording_platform import RecordingPlatform
except ImportError:  # pragma: no cover
    from tests.core_flow.conftest import RecordingPlatform  # type: ignore[attr-defined]
from tests.fakes import FakeOllama

SPACE = "guild-1"
FLAGGED_TEXT = "selling my aimbot config, undetected, dm me zq-unique-77"
HARMLESS_TEXT = "how do I report a cheater in ranked? zq-unique-88"


def actor(user: str, **flags: bool) -> Actor:
    """An actor of SPACE (newer cores scope actors to a space; older ones have no such field)."""
    scope = {"space_id": SPACE} if "space_id" in Actor.__dataclass_fields__ else {}
    return Actor(user, user, **flags, **scope)  # type: ignore[arg-type]


MOD = actor("mia", is_moderator=True)
AUTHOR = actor("sam")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def message(n: int, text: str) -> IncomingMessage:
    return IncomingMessage(
        platform="test", space_id=SPACE, channel_id="general", message_id=str(n),
        author_id="sam", author_name="sam", text=text, channel_name="general",
    )  # fmt: skip


@dataclass
class Bot:
    runtime: Runtime
    platform: RecordingPlatform
    fake: FakeOllama
    settings: Settings


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    async with FakeOllama(stand_in) as fake:
        settings = Settings(
            ollama_host=fake.url,
            database_path=tmp_path / "modbot.db",
            metrics_port=free_port(),
            metrics_host="127.0.0.1",
        )
        platform = RecordingPlatform()
        async with build_runtime(settings, {"test": platform}) as runtime:
            await runtime.core.ensure_space(SPACE, "test", "test server", mod_channel_id="mods")
            await install_library(runtime, SPACE)
            yield Bot(runtime, platform, fake, settings)
