"""A whole moderation core against a loopback Ollama and a recording platform."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.tiered import TieredClassifier
from bot.core.messages import ContextLine, IncomingMessage
from bot.core.policies import TokenLimits, parse_policy
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, FlagView, MemberNotice, PlatformResult
from bot.core.service import CoreSettings, ModerationCore
from bot.store import Store
from tests.conftest import POLICY_DIR
from tests.fakes import FakeOllama, Reply, verdict_json

ADMIN = Actor("root", "root", is_admin=True)
MOD = Actor("mia", "mia", is_moderator=True)


def stand_in(body: dict) -> Reply:
    """A deterministic stand-in model: violation when the target mentions aimbot, nitro or a link."""
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = any(w in target for w in ("aimbot", "nitro", "http"))
    return Reply(verdict_json(int(bad), ["GC1"] if bad else [], "high", "stand-in verdict"))


@dataclass
class RecordingPlatform:
    name: str = "test"
    flags: list[FlagView] = field(default_factory=list)
    updates: list[tuple[str, FlagView]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    timeouts: list[tuple[str, int]] = field(default_factory=list)
    dms: list[MemberNotice] = field(default_factory=list)
    fail_posts: int = 0  # the next N posts fail (platform outage)

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        if self.fail_posts:
            self.fail_posts -= 1
            return PlatformResult(False, error="503 from the platform")
        self.flags.append(view)
        return PlatformResult(True, ref=f"card-{len(self.flags)}")

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        self.updates.append((ref, view))
        return PlatformResult(True, ref=ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        self.deleted.append(message_id)
        return PlatformResult(True)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        self.timeouts.append((user_id, minutes))
        return PlatformResult(True)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        self.dms.append(notice)
        return PlatformResult(True)

    async def fetch_context(
        self, space_id: str, channel_id: str, before: str, limit: int
    ) -> list[ContextLine]:
        return []


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
    db_path: Path
    tokens: object
    core: ModerationCore | None = None
    store: Store | None = None
    classifier: TieredClassifier | None = None

    async def start(self, *, workers: int = 1, timeout_s: float = 5.0) -> ModerationCore:
        self.store = await Store.open(self.db_path)
        self.classifier = TieredClassifier(
            OllamaTier(OllamaSettings(host=self.fake.url, timeout_s=timeout_s))
        )
        count = self.tokens.count  # type: ignore[attr-defined]
        book = PolicyBook(self.store, lambda text, src: parse_policy(text, src, count, TokenLimits()))
        self.core = ModerationCore(
            self.store,
            self.classifier,
            book,
            {"test": self.platform},
            CoreSettings(workers=workers, outbox_poll_s=0.05),
        )
        await self.core.start()
        return self.core

    async def stop(self) -> None:
        if self.core:
            await self.core.stop()
        if self.classifier:
            await self.classifier.aclose()
        if self.store:
            await self.store.close()
        self.core = self.store = self.classifier = None

    async def install(self, space: str, policy_id: str, mode: str = "live", **space_settings: object) -> None:
        assert self.core is not None
        await self.core.ensure_space(space, "test", space, mod_channel_id="mods", **space_settings)
        text = (POLICY_DIR / f"{policy_id}.yaml").read_text()
        result = await self.core.admin.upload(space, ADMIN, text, mode=mode)
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
