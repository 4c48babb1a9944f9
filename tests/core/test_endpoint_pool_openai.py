"""A tier-2 pool of OpenAI-compatible servers: the probe reads /v1/models, a dead one is skipped."""

from __future__ import annotations

import asyncio

from bot.app import build_classifier, build_toolkit
from bot.config import Settings
from bot.core.classifier.base import ClassifyRequest
from bot.core.classifier.pool import EndpointPool
from bot.core.messages import Verdict
from tests.fakes import FakeOpenAI, verdict_json


async def test_openai_endpoints_probe_their_model_and_answer_as_tier_2(library):
    policy = library[min(library)]
    async with FakeOpenAI(lambda _b: verdict_json(0)) as served, FakeOpenAI(models=set()) as empty:
        settings = Settings(
            ollama_host="http://127.0.0.1:9",
            model_endpoints=(
                f"ollama=http://127.0.0.1:9, openai={empty.url};tier=120b, openai={served.url};tier=120b"
            ),
        )
        toolkit = await asyncio.to_thread(build_toolkit, settings)  # reads the tokenizer's files
        classifier = build_classifier(settings, toolkit)
        try:
            pool = classifier.tier2
            assert isinstance(pool, EndpointPool)
            states = {s.name: s for s in await pool.probe()}
            assert states[served.url].healthy
            assert not states[empty.url].healthy and "is not served there" in states[empty.url].state
            result = await pool.classify(policy, ClassifyRequest("hello all"))
            assert isinstance(result, Verdict) and result.tier == 2
            assert len(served.requests) == 1 and empty.requests == []
        finally:
            await classifier.aclose()
