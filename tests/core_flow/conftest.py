"""A whole moderation core against a loopback Ollama and a recording platform."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.classifier.base import ModelTier
from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.tiered import TieredClassifier
from bot.core.library import PolicyLibrary
from bot.core.messages import IncomingMessage
from bot.core.policies import TokenLimits, load_policy_dir, parse_policy
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor
from bot.core.service import CoreSettings, ModerationCore
from bot.core.tokens import TokenCounter
from bot.store import Store
from tests.conftest import POLICY_DIR
from tests.fakes import FakeOllama, Reply, verdict_json
from tests.fakes.recording_platform import RecordingPlatform

ADMIN = Actor("root", "root", is_admin=True, space_id="guild-1")
MOD = Actor("mia", "mia", is_moderator=True, space_id="guild-1")


def admin_of(space: str) -> Actor:
    return Actor("root", "root", is_admin=True, space_id=space)


def mod_of(space: str) -> Actor:
    return Actor("mia", "mia", is_moderator=True, space_id=space)


def stand_in(body: dict) -> Reply:
    """A deterministic stand-in model: violation when the target mentions aimbot, nitro or a link."""
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = any(w in target for w in ("aimbot", "nitro", "http"))
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "high", "stand-in verdict"))


def message(
    n: int | str, text: str, space: str = "guild-1", author: str = "sam", channel: str = "general"
) -> IncomingMessage:
    return IncomingMessage(
        platform="test", space_id=space, channel_id=channel, message_id=str(n),
        author_id=author, author_name=author, text=text, channel_name=channel,
    )  # fmt: skip


@dataclass
class Env:
    fake: FakeOllama
    platform: RecordingPlatform
    db_path: Path | str  # a SQLite file, or a postgresql:// URL
    tokens: TokenCounter
    _core: ModerationCore | None = None
    _store: Store | None = None
    _classifier: TieredClassifier | None = None

    @property
    def core(self) -> ModerationCore:
        assert self._core is not None, "call env.start() first"
        return self._core

    @property
    def store(self) -> Store:
        assert self._store is not None, "call env.start() first"
        return self._store

    async def start(
        self,
        *,
        workers: int = 1,
        timeout_s: float = 5.0,
        tier2: ModelTier | None = None,
        library_dir: Path = POLICY_DIR,
        classify_only: bool = False,
    ) -> ModerationCore:
        store = self._store = await Store.open(self.db_path)
        classifier = self._classifier = TieredClassifier(
            OllamaTier(OllamaSettings(host=self.fake.url, timeout_s=timeout_s)), tier2
        )
        count = self.tokens.count
        book = PolicyBook(store, lambda text, src: parse_policy(text, src, count, TokenLimits()))
        library = PolicyLibrary(library_dir, lambda paths: load_policy_dir(paths, count, TokenLimits()))
        core = self._core = ModerationCore(
            store,
            classifier,
            book,
            {"test": self.platform},
            library,
            CoreSettings(workers=workers, outbox_poll_s=0.05, classify_only=classify_only),
        )
        await core.start()
        return core

    async def stop(self) -> None:
        if self._core:
            await self._core.stop()
        if self._classifier:
            await self._classifier.aclose()
        if self._store:
            await self._store.close()
        self._core = self._store = self._classifier = None

    async def install(self, space: str, policy_id: str, mode: str = "live", **space_settings: object) -> None:
        await self.core.ensure_space(space, "test", space, mod_channel_id="mods", **space_settings)
        text = (POLICY_DIR / f"{policy_id}.yaml").read_text()
        result = await self.core.admin.upload(space, admin_of(space), text, mode=mode)
        assert result.ok, result.message


@pytest.fixture
async def env(tmp_path: Path, tokens) -> AsyncIterator[Env]:
    async with FakeOllama(stand_in) as fake:
        e = Env(fake, RecordingPlatform(), tmp_path / "modbot.db", tokens)
        try:
            yield e
        finally:
            await e.stop()


Responder = Callable[[dict], Reply]
