"""The one factory: settings in, wired objects out, closed with `async with`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.classifier.tiered import TieredClassifier
from bot.core.policies import Policy, PolicyProblem, TokenLimits, load_policy_dir
from bot.core.tokens import TokenCounter, load_encoding


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
        return load_policy_dir(paths or [self.settings.policy_dir], self.tokens.count, self.limits)


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
    return TieredClassifier(tier1, tier2, tier2_effort=settings.escalation_effort)


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
