"""What every model tier shares: the request, the raw answer, parsing and the empty retry."""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

from bot.core.classifier.parse import ParseFailure, parse_answer
from bot.core.messages import ContextLine, Result, Unavailable, UnavailableReason, Verdict
from bot.core.policies import Policy
from bot.core.prompt import MAX_TEXT_CHARS, Finds, render_user
from bot.core.redact import redact
from bot.core.text import valid_text

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClassifyRequest:
    """One message to judge against one policy."""

    text: str
    author: str = "member"
    channel: str = ""
    context: tuple[ContextLine, ...] = ()

    def user_message(self, finds: Finds | None = None) -> str:
        """`finds` (the policy prefilter's) locates what a long message must still show the model."""
        return render_user(self.text, self.author, self.channel, self.context, finds)

    def member_text(self) -> tuple[str, ...]:
        """Everything in the prompt that members wrote: no verdict may be taken from it."""
        context = (part for line in self.context for part in (line.author, line.text))
        return (self.text, self.author, self.channel, *context)


@dataclass(frozen=True, slots=True)
class RawAnswer:
    content: str
    reasoning: str
    truncated: bool
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ModelCallError(Exception):
    """A call that produced no answer; `reason` is one of UnavailableReason."""

    def __init__(self, reason: UnavailableReason, detail: str) -> None:
        super().__init__(detail)
        self.reason: UnavailableReason = reason
        self.detail = detail


class Classifier(Protocol):
    tier: int
    model: str

    async def classify(
        self, policy: Policy, request: ClassifyRequest, *, effort: str | None = None
    ) -> Result: ...

    async def aclose(self) -> None: ...


class ModelTier(ABC):
    """A model behind some API. Subclasses implement one call; this class makes it safe."""

    tier: int
    model: str
    secrets: tuple[str, ...] = ()  # values masked in every error text (e.g. the API key)

    @abstractmethod
    async def _call(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        """One request to the server; raise ModelCallError when there is no answer."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        pass

    async def classify(
        self, policy: Policy, request: ClassifyRequest, *, effort: str | None = None
    ) -> Result:
        effort = effort or policy.spec.reasoning_effort
        if len(request.text) > MAX_TEXT_CHARS:  # scanning a long text for hits is CPU work
            user_message = await asyncio.to_thread(request.user_message, policy.prefilter.finds)
        else:
            user_message = request.user_message()
        started = time.monotonic()
        failure = ParseFailure("empty", "no attempt was made")
        raw: RawAnswer | None = None
        # An empty answer is a known hiccup of gpt-oss servers: one retry, then give up.
        for _attempt in range(2):
            try:
                raw = await self._call(policy, user_message, effort)
            except ModelCallError as exc:
                return self._unavailable(policy, exc.reason, exc.detail, started)
            parsed = parse_answer(raw.content, raw.reasoning, raw.truncated, request.member_text())
            if not isinstance(parsed, ParseFailure):
                return Verdict(
                    violation=parsed.violation,
                    confidence=parsed.confidence,
                    rule_ids=parsed.rule_ids,
                    category=parsed.category,
                    rationale=parsed.rationale,
                    reasoning=valid_text(raw.reasoning),
                    tier=self.tier,
                    model=self.model,
                    policy=policy.ref,
                    latency_ms=_ms_since(started),
                    prompt_tokens=raw.prompt_tokens,
                    completion_tokens=raw.completion_tokens,
                    source=parsed.source,
                )
            failure = parsed
            if parsed.reason != "empty":
                break
            log.info("tier %s returned an empty answer for %s; retrying once", self.tier, policy.id)
        excerpt = (raw.content if raw else "")[:300]
        return self._unavailable(policy, failure.reason, failure.detail, started, excerpt)

    def _unavailable(
        self,
        policy: Policy,
        reason: UnavailableReason,
        detail: str,
        started: float,
        excerpt: str = "",
    ) -> Unavailable:
        # The one exit of every error text: logged and stored, so never with a secret in it.
        detail, excerpt = redact(detail, self.secrets), redact(excerpt, self.secrets)
        log.warning(
            "tier %s (%s) unavailable for %s: %s: %s", self.tier, self.model, policy.id, reason,
            # An unparseable answer's excerpt may quote the member: it stays with the job, not the log.
            "the answer held no verdict" if reason == "unparseable" else detail,
            extra={"tier": self.tier, "policy_id": policy.id, "reason": reason},
        )  # fmt: skip
        return Unavailable(
            reason=reason,
            detail=detail,
            tier=self.tier,
            model=self.model,
            policy=policy.ref,
            latency_ms=_ms_since(started),
            raw_excerpt=excerpt,
        )


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
