"""When tier 1 is unsure, missing, or the stakes are high, tier 2 decides, and both are kept."""

from __future__ import annotations

import pytest

from bot.core.classifier.base import ClassifyRequest
from bot.core.classifier.harmony import HarmonyCodec
from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.openai_compat import OpenAICompatTier, OpenAISettings
from bot.core.classifier.tiered import TieredClassifier
from bot.core.messages import Unavailable, Verdict
from tests.fakes import FakeOllama, FakeOpenAI, Reply, verdict_json


async def run(library, encoding, policy_id, t1_reply, t2_reply=None, *, escalate=False, tier2=True):
    t1_reply = t1_reply if callable(t1_reply) else (lambda b, r=t1_reply: r)
    t2 = t2_reply or Reply(verdict_json(1, ["X"], "high", "tier two says so"))
    async with FakeOllama(t1_reply) as f1, FakeOpenAI(lambda b: t2, encoding=encoding) as f2:
        tier1 = OllamaTier(OllamaSettings(host=f1.url, timeout_s=5))
        second = (
            OpenAICompatTier(OpenAISettings(base_url=f2.url, timeout_s=5), HarmonyCodec(encoding))
            if tier2
            else None
        )
        classifier = TieredClassifier(tier1, second)
        try:
            result = await classifier.classify(
                library[policy_id], ClassifyRequest("some text"), escalate=escalate
            )
        finally:
            await classifier.aclose()
        return result, len(f1.requests), len(f2.requests)


async def test_confident_tier1_answer_is_final(library, encoding):
    result, n1, n2 = await run(library, encoding, "game-cheating", Reply(verdict_json(0, confidence="high")))
    assert isinstance(result, Verdict) and result.tier == 1 and (n1, n2) == (1, 0)


async def test_low_confidence_escalates_and_keeps_both_answers(library, encoding):
    low = Reply(verdict_json(1, ["GC1"], "low", "maybe a cheat"))
    result, n1, n2 = await run(library, encoding, "game-cheating", low)
    assert (n1, n2) == (1, 1)
    assert isinstance(result, Verdict) and result.tier == 2
    assert isinstance(result.previous, Verdict) and result.previous.tier == 1
    assert result.previous.rationale == "maybe a cheat"


async def test_tier1_unavailable_escalates(library, encoding):
    result, _, _ = await run(library, encoding, "game-cheating", Reply(status=503, error="busy"))
    assert isinstance(result, Verdict) and result.tier == 2
    assert isinstance(result.previous, Unavailable) and result.previous.reason == "busy"


async def test_high_severity_always_asks_tier2(library, encoding):
    assert library["self-harm"].spec.severity == "high"
    result, n1, n2 = await run(library, encoding, "self-harm", Reply(verdict_json(0, confidence="high")))
    assert (n1, n2) == (1, 1) and isinstance(result, Verdict) and result.tier == 2


async def test_explicit_request_escalates(library, encoding):
    result, _, n2 = await run(library, encoding, "game-cheating", Reply(verdict_json(0)), escalate=True)
    assert n2 == 1 and isinstance(result, Verdict) and result.tier == 2


async def test_failed_escalation_keeps_tier1_answer_and_says_so(library, encoding):
    low = Reply(verdict_json(1, ["GC1"], "low"))
    result, _, n2 = await run(library, encoding, "game-cheating", low, Reply(status=503, error="busy"))
    assert n2 == 1
    assert isinstance(result, Verdict) and result.tier == 1 and result.confidence == "low"
    assert isinstance(result.escalation_failed, Unavailable)


async def test_both_tiers_unavailable_is_unavailable(library, encoding):
    result, _, _ = await run(
        library, encoding, "game-cheating", Reply(content="??"), Reply(status=500, error="x")
    )
    assert isinstance(result, Unavailable) and result.tier == 2
    assert isinstance(result.previous, Unavailable) and result.previous.reason == "unparseable"


async def test_without_tier2_the_tier1_answer_stands(library, encoding):
    low = Reply(verdict_json(1, ["GC1"], "low"))
    result, _, n2 = await run(library, encoding, "game-cheating", low, tier2=False)
    assert n2 == 0 and isinstance(result, Verdict) and result.tier == 1


@pytest.mark.parametrize("escalate", [True])
async def test_stored_tier1_answer_is_not_asked_again(library, encoding, escalate):
    policy = library["game-cheating"]
    async with FakeOllama() as f1, FakeOpenAI(encoding=encoding) as f2:
        classifier = TieredClassifier(
            OllamaTier(OllamaSettings(host=f1.url, timeout_s=5)),
            OpenAICompatTier(OpenAISettings(base_url=f2.url, timeout_s=5), HarmonyCodec(encoding)),
        )
        try:
            first = await classifier.classify(policy, ClassifyRequest("x"))
            again = await classifier.classify(policy, ClassifyRequest("x"), escalate=escalate, previous=first)
        finally:
            await classifier.aclose()
    assert len(f1.requests) == 1 and len(f2.requests) == 1
    assert isinstance(again, Verdict) and again.previous == first
