"""The one factory: settings in, wired objects out, closed with `async with`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.classifier.tiered import TieredClassifier
from bot.core.library import PolicyLibrary
from bot.core.policies import Policy, PolicyProblem, TokenLimits, load_policy_dir, parse_policy
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, Platform
from bot.core.screen import ScreenSettings
from bot.core.service import CoreSettings, ModerationCore
from bot.core.tokens import TokenCounter, load_encoding
from bot.store import Store


@dataclass
class Toolkit:
    """What needs no network: the tokenizer and the policy loader."""

    settings: Settings
    tokens: TokenCounter

    @property
    def limits(self) -> TokenLimits:
        return TokenLimits(self.settings.policy_warn_tokens, self.settings.policy_max_tokens)

    def load_policies(
        self, paths: Iterable[Path] | None = None
    ) -> tuple[dict[str, Policy], list[PolicyProblem]]:
        chosen = [self.settings.policy_dir] if paths is None else list(paths)
        return load_policy_dir(chosen, self.tokens.count, self.limits)


def build_toolkit(settings: Settings) -> Toolkit:
    return Toolkit(settings, TokenCounter(load_encoding(settings.tiktoken_cache_dir)))


def build_classifier(settings: Settings, toolkit: Toolkit) -> TieredClassifier:
    tier1 = OllamaTier(
        OllamaSettings(
            host=settings.ollama_host,
            model=settings.ollama_model,
            timeout_s=settings.ollama_timeout_s,
            keep_alive=settings.ollama_keep_alive,
            num_ctx=settings.ollama_num_ctx,
            num_predict=settings.ollama_num_predict,
            stream=settings.ollama_stream,
            use_format=settings.ollama_json_format,
        )
    )
    tier2 = None
    if settings.has_tier2:
        tier2 = OpenAICompatTier(
            OpenAISettings(
                base_url=settings.escalation_url,
                model=settings.escalation_model,
                api_key=settings.escalation_api_key,
                mode=settings.escalation_mode,
                timeout_s=settings.escalation_timeout_s,
                max_tokens=settings.escalation_max_tokens,
                stream=settings.escalation_stream,
                json_schema=settings.escalation_json_schema,
            ),
            harmony=HarmonyCodec(toolkit.tokens.encoding),
        )
    return TieredClassifier(
        tier1, tier2, tier1_effort=settings.ollama_effort, tier2_effort=settings.escalation_effort
    )


@dataclass
class Engine:
    toolkit: Toolkit
    classifier: TieredClassifier


@asynccontextmanager
async def build_engine(settings: Settings) -> AsyncIterator[Engine]:
    # Loading the encoding reads a 3 MB file: keep it off the event loop.
    toolkit = await asyncio.to_thread(build_toolkit, settings)
    classifier = build_classifier(settings, toolkit)
    try:
        yield Engine(toolkit, classifier)
    finally:
        await classifier.aclose()


@dataclass
class Runtime:
    engine: Engine
    store: Store
    core: ModerationCore


@asynccontextmanager
async def build_runtime(
    settings: Settings,
    platforms: Mapping[str, Platform],
    database: str | Path | None = None,
    *,
    background: bool = True,
) -> AsyncIterator[Runtime]:
    """Everything the bot runs: storage, models, the core and (unless `background` is False, as
    for `modbot admin`, which must not classify or deliver) its background work."""
    async with build_engine(settings) as engine:
        store = await Store.open(
            database if database is not None else settings.database, pool_size=settings.database_pool_size
        )
        shard_locks = store.shard_locks()  # opens no connection until a shard is asked for
        try:
            toolkit = engine.toolkit

            def compile_policy(text: str, source: str) -> Policy:
                return parse_policy(text, source, toolkit.tokens.count, toolkit.limits)

            book = PolicyBook(store, compile_policy)
            library = PolicyLibrary(settings.policy_dir, toolkit.load_policies)
            core = ModerationCore(
                store,
                engine.classifier,
                book,
                platforms,
                library,
                CoreSettings(workers=settings.ollama_slots, screen=screen_settings(settings)),
                shard_locks=shard_locks,
            )
            if not background:
                yield Runtime(engine, store, core)
                return
            async with core:
                yield Runtime(engine, store, core)
        finally:
            await shard_locks.release_all()  # other processes take this one's shards over
            await store.close()


async def install_library(runtime: Runtime, space_id: str, mode: str = "live") -> list[str]:
    """Enable every policy of POLICY_DIR in a space (what a new admin usually starts with)."""
    installed = []
    for policy_id in await runtime.core.commands.services.library.all():
        reply = await runtime.core.run_command(
            ("policy", "enable"), Actor.bot(space_id), space_id, {"policy": policy_id, "mode": mode}
        )
        if reply.ok:
            installed.append(policy_id)
    return installed


def screen_settings(settings: Settings) -> ScreenSettings | None:
    """The learned screen as configured (None when SCREEN_ENABLED is false)."""
    if not settings.screen_enabled:
        return None
    return ScreenSettings(
        random_rate=settings.screen_random_rate,
        min_score=settings.screen_min_score,
        offers_per_space=settings.screen_offers_per_space,
        offer_max_age_s=settings.screen_offer_max_age_s,
        retrain_after=settings.screen_retrain_after,
    )
