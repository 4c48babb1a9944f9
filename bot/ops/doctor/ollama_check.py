"""Tier 1: Ollama reachable, new enough for gpt-oss structured output, model pulled, context long enough."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from bot.config import Settings
from bot.core.policies import Policy
from bot.ops.doctor.result import Check, fail, ok, skip

MIN_VERSION = (0, 12, 4)  # older Ollama returns empty content for gpt-oss with `format`
# Room for the user message: a 4,000-character TARGET, three 500-character CONTEXT lines and
# their labels, counted at about 3 characters a token for mixed-language chat.
MESSAGE_BUDGET_TOKENS = 1900
PROBE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class OllamaFacts:
    reachable: bool
    version: str = ""
    model_found: bool = False
    context_length: int | None = None  # the model's trained context window, when reported


def version_tuple(text: str) -> tuple[int, int, int] | None:
    m = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", text.strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


async def probe(settings: Settings) -> tuple[OllamaFacts, list[Check]]:
    host = settings.ollama_host.rstrip("/")
    model = settings.ollama_model
    async with httpx.AsyncClient(base_url=host, timeout=PROBE_TIMEOUT, trust_env=False) as http:
        try:
            version_resp = await http.get("/api/version")
            version_resp.raise_for_status()
            version = str(version_resp.json().get("version", ""))
        except (httpx.HTTPError, ValueError) as exc:
            return OllamaFacts(False), [
                fail(
                    "ollama.reachable",
                    f"cannot reach Ollama at {host}: {exc.__class__.__name__}: {exc}",
                    "start it (`ollama serve`, or `docker compose up -d ollama`) or set OLLAMA_HOST",
                )
            ]
        checks = [ok("ollama.reachable", f"{host} answers")]
        parsed = version_tuple(version)
        wanted = ".".join(map(str, MIN_VERSION))
        if parsed is None:
            checks.append(ok("ollama.version", f"{version!r} (a development build; cannot compare)"))
        elif parsed < MIN_VERSION:
            checks.append(
                fail(
                    "ollama.version",
                    f"{version} is older than {wanted}, which gpt-oss needs for JSON output",
                    f"upgrade Ollama to {wanted} or newer (or set OLLAMA_JSON_FORMAT=false meanwhile)",
                )
            )
        else:
            checks.append(ok("ollama.version", f"{version} (>= {wanted})"))
        show = await http.post("/api/show", json={"model": model})
        if show.status_code == 404:
            checks.append(fail("ollama.model", f"{model} is not pulled", f"run `ollama pull {model}`"))
            return OllamaFacts(True, version), checks
        show.raise_for_status()
        info = show.json().get("model_info") or {}
        ctx = next((int(v) for k, v in info.items() if k.endswith(".context_length")), None)
        checks.append(ok("ollama.model", f"{model} is pulled"))
        return OllamaFacts(True, version, True, ctx), checks


def check_context(settings: Settings, policies: dict[str, Policy], facts: OllamaFacts) -> Check:
    """The longest policy + a long message + the answer budget must fit in the num_ctx sent."""
    if not policies:
        return skip("ollama.context", "no policy loaded")
    if not facts.model_found:
        return skip("ollama.context", "model not available")

    def need(policy: Policy) -> int:
        return policy.prompt_tokens + MESSAGE_BUDGET_TOKENS + settings.ollama_num_predict

    worst = max(policies.values(), key=lambda p: need(p) - (settings.ollama_num_ctx or p.spec.num_ctx))
    num_ctx = settings.ollama_num_ctx or worst.spec.num_ctx
    needed = need(worst)
    parts = (
        f"{worst.id}: {worst.prompt_tokens} policy + {MESSAGE_BUDGET_TOKENS} message + "
        f"{settings.ollama_num_predict} answer = {needed} tokens"
    )
    if needed > num_ctx:
        where = "OLLAMA_NUM_CTX" if settings.ollama_num_ctx else f"num_ctx in {worst.source}"
        return fail(
            "ollama.context",
            f"{parts}, more than num_ctx {num_ctx}",
            f"raise {where} to at least {needed}, or shorten the policy",
        )
    if facts.context_length is not None and num_ctx > facts.context_length:
        return fail(
            "ollama.context",
            f"num_ctx {num_ctx} is more than the model's {facts.context_length}",
            f"lower OLLAMA_NUM_CTX / the policy's num_ctx to {facts.context_length} or less",
        )
    return ok("ollama.context", f"longest {parts}, fits in num_ctx {num_ctx}")
