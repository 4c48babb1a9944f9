"""One real classification of a harmless text, timed end to end; and the tier-2 endpoint."""

from __future__ import annotations

import time

import httpx

from bot.config import Settings
from bot.core.classifier.base import ClassifyRequest
from bot.core.classifier.tiered import TieredClassifier
from bot.core.messages import Verdict
from bot.core.policies import Policy
from bot.ops.doctor.result import Check, fail, ok, skip

HARMLESS = "good morning everyone, hope you all have a nice weekend"
FIXES = {
    "timeout": "raise OLLAMA_TIMEOUT_S, or check that the GPU is not shared with another job",
    "busy": "raise OLLAMA_NUM_PARALLEL / OLLAMA_MAX_QUEUE on the server, keep OLLAMA_SLOTS equal",
    "empty": "upgrade Ollama to 0.12.4 or newer, or set OLLAMA_JSON_FORMAT=false",
    "unparseable": "check that OLLAMA_MODEL is a gpt-oss-safeguard model",
    "truncated": "raise OLLAMA_NUM_PREDICT (the answer was cut off)",
    "model_missing": "pull the model: `ollama pull <OLLAMA_MODEL>`",
}


async def check_classification(classifier: TieredClassifier, policies: dict[str, Policy]) -> Check:
    if not policies:
        return skip("model.classify", "no policy loaded")
    policy = policies[min(policies)]
    started = time.monotonic()
    result = await classifier.tier1.classify(policy, ClassifyRequest(HARMLESS, "doctor"))
    took = time.monotonic() - started
    if not isinstance(result, Verdict):
        fix = FIXES.get(result.reason, "see the detail; `modbot check -v` shows the whole exchange")
        return fail("model.classify", f"no verdict after {took:.1f}s: {result.reason}: {result.detail}", fix)
    if result.violation:
        return fail(
            "model.classify",
            f"a harmless message was flagged under {policy.id} ({result.rationale})",
            f"check that OLLAMA_MODEL is gpt-oss-safeguard, then `modbot policy test {policy.id}`",
        )
    return ok(
        "model.classify",
        f"{policy.id}: no violation ({result.confidence}) in {took:.2f}s end to end, "
        f"{result.prompt_tokens} prompt + {result.completion_tokens} answer tokens",
    )


async def check_escalation(settings: Settings) -> Check:
    if not settings.escalation_url.strip():
        if settings.endpoints(2):
            return skip("escalation", "the 120b endpoints of MODEL_ENDPOINTS are checked above")
        return skip("escalation", "not configured (optional: ESCALATION_URL for the 120b)")
    base = settings.escalation_url.rstrip("/")
    base = base if base.endswith("/v1") else base + "/v1"
    headers = {"Accept": "application/json"}
    if key := settings.escalation_api_key.get_secret_value():
        headers["Authorization"] = f"Bearer {key}"
    timeout = httpx.Timeout(10.0, connect=5.0)
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False, headers=headers) as http:
            resp = await http.get(f"{base}/models")
    except httpx.HTTPError as exc:
        return fail(
            "escalation",
            f"cannot reach {base}: {exc.__class__.__name__}: {exc}",
            "start the tier-2 server (`docker compose --profile tier2 up -d`) or fix ESCALATION_URL",
        )
    if resp.status_code in (401, 403):
        return fail("escalation", f"{base} refused the key ({resp.status_code})", "set ESCALATION_API_KEY")
    if resp.status_code != 200:
        return fail("escalation", f"{base}/models answered {resp.status_code}", "check ESCALATION_URL")
    try:
        served = [str(m.get("id")) for m in resp.json().get("data", [])]
    except (ValueError, AttributeError):
        return fail("escalation", f"{base}/models is not an OpenAI-compatible list", "check ESCALATION_URL")
    if settings.escalation_model not in served:
        return fail(
            "escalation",
            f"{base} serves {', '.join(served) or 'no model'}, not {settings.escalation_model}",
            f"set ESCALATION_MODEL to one of: {', '.join(served) or '(start the model)'}",
        )
    return ok("escalation", f"{base} serves {settings.escalation_model}")
