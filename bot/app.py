"""The one factory: settings in, wired objects out, closed with `async with`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.config import Settings
from bot.config_endpoints import EndpointSpec
from bot.core.breaker import CircuitBreaker
from bot.core.classifier.base import Classifier
from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.classifier.pool import Endpoint, EndpointPool
from bot.core.classifier.tiered import TieredClassifier
from bot.core.library import PolicyLibrary
from bot.core.policies import Policy, PolicyProblem, TokenLimits, load_policy_dir, parse_policy
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, Platform
from bot.core.screen import ScreenSettings
from bot.core.service import CoreSettings, ModerationCore
from bot.core.tokens import TokenCounter, load_encoding
from bot.store import Store

Role = Literal["run", "worker"]  # every duty, or only classifying (a donated GPU)


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


def ollama_tier(settings: Settings, host: str, model: str) -> OllamaTier:
    return OllamaTier(
        OllamaSettings(
            host=host,
            model=model,
            timeout_s=settings.ollama_timeout_s,
            keep_alive=settings.ollama_keep_alive,
            num_ctx=settings.ollama_num_ctx,
            num_predict=settings.ollama_num_predict,
            stream=settings.ollama_stream,
            use_format=settings.ollama_json_format,
        )
    )


def openai_tier(settings: Settings, toolkit: Toolkit, base_url: str, model: str) -> OpenAICompatTier:
    return OpenAICompatTier(
        OpenAISettings(
            base_url=base_url,
            model=model,
            api_key=settings.escalation_api_key,
            mode=settings.escalation_mode,
            timeout_s=settings.escalation_timeout_s,
            max_tokens=settings.escalation_max_tokens,
            stream=settings.escalation_stream,
            json_schema=settings.escalation_json_schema,
        ),
        harmony=HarmonyCodec(toolkit.tokens.encoding),
    )


def build_endpoint(settings: Settings, toolkit: Toolkit, spec: EndpointSpec) -> Endpoint:
    model = spec.model or (settings.ollama_model if spec.tier == 1 else settings.escalation_model)
    client: OllamaTier | OpenAICompatTier
    if spec.kind == "ollama":
        client = ollama_tier(settings, spec.url, model)
    else:
        client = openai_tier(settings, toolkit, spec.url, model)
    client.tier = spec.tier  # a 120b on Ollama answers as tier 2
    return Endpoint(spec.name, client, spec.slots, CircuitBreaker())


def build_pool(
    settings: Settings, toolkit: Toolkit, tier: int = 1, *, pooled: bool = False
) -> EndpointPool | None:
    """The MODEL_ENDPOINTS of one tier as a pool (None when none are listed). With ``pooled``
    (`modbot worker`), a tier 1 without MODEL_ENDPOINTS is a pool of the one OLLAMA_HOST, so
    its model is probed and logged like any donated endpoint's."""
    specs = settings.endpoints(tier)
    if not specs and pooled and tier == 1:
        specs = [EndpointSpec("ollama", settings.ollama_host, settings.ollama_slots)]
    if not specs:
        return None
    return EndpointPool([build_endpoint(settings, toolkit, spec) for spec in specs], tier=tier)


def build_classifier(settings: Settings, toolkit: Toolkit, *, pooled: bool = False) -> TieredClassifier:
    # Without MODEL_ENDPOINTS: the single Ollama and optional ESCALATION_URL, exactly as before.
    tier1: Classifier = build_pool(settings, toolkit, 1, pooled=pooled) or ollama_tier(
        settings, settings.ollama_host, settings.ollama_model
    )
    tier2: Classifier | None = build_pool(settings, toolkit, 2)
    if tier2 is None and settings.escalation_url.strip():
        tier2 = openai_tier(settings, toolkit, settings.escalation_url, settings.escalation_model)
    return TieredClassifier(
        tier1, tier2, tier1_effort=settings.ollama_effort, tier2_effort=settings.escalation_effort
    )


@dataclass
class Engine:
    toolkit: Toolkit
    classifier: TieredClassifier


@asynccontextmanager
async def build_engine(settings: Settings, *, pooled: bool = False) -> AsyncIterator[Engine]:
    # Loading the encoding reads a 3 MB file: keep it off the event loop.
    toolkit = await asyncio.to_thread(build_toolkit, settings)
    classifier = build_classifier(settings, toolkit, pooled=pooled)
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
    role: Role = "run",
) -> AsyncIterator[Runtime]:
    """Everything the bot runs: storage, models, the core and (unless `background` is False, as
    for `modbot admin`, which must not classify or deliver) its background work.

    ``role="worker"`` (`modbot worker`, a donated GPU): the same core, running only its model
    workers, their endpoint probes and its heartbeat on the shared Postgres queue."""
    worker = role == "worker"
    async with build_engine(settings, pooled=worker) as engine:
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
                CoreSettings(
                    workers=settings.tier1_slots,
                    endpoint_probe_s=settings.endpoint_probe_s,
                    # A worker records labels but trains no screen: the `modbot run` processes do.
                    screen=screen_settings(settings, trains=not worker),
                    classify_only=worker,
                ),
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


def screen_settings(settings: Settings, *, trains: bool = True) -> ScreenSettings | None:
    """The learned screen as configured (None when SCREEN_ENABLED is false)."""
    if not settings.screen_enabled:
        return None
    return ScreenSettings(
        trains=trains,
        random_rate=settings.screen_random_rate,
        min_score=settings.screen_min_score,
        offers_per_space=settings.screen_offers_per_space,
        offer_max_age_s=settings.screen_offer_max_age_s,
        retrain_after=settings.screen_retrain_after,
    )
