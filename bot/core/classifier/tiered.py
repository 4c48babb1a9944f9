"""Tier 1 first; tier 2 when the answer is unsure, missing, severe, or someone asks."""

from __future__ import annotations

import dataclasses
import logging
from typing import Literal

from bot.core.classifier.base import Classifier, ClassifyRequest
from bot.core.classifier.pool import EndpointPool
from bot.core.messages import Result, Unavailable, Verdict
from bot.core.policies import Policy
from bot.core.telemetry import Telemetry

log = logging.getLogger(__name__)

EscalationCause = Literal["low_confidence", "unavailable", "severity", "violation", "requested"]


def escalation_cause(policy: Policy, first: Result | None, requested: bool) -> EscalationCause | None:
    """Why this answer should go to the bigger model, or None."""
    esc = policy.spec.escalation
    if requested:
        return "requested"
    if policy.spec.severity == "high" or esc.always:
        return "severity"
    if isinstance(first, Unavailable):
        return "unavailable" if esc.on_unavailable else None
    if first is not None and first.confidence == "low" and esc.on_low_confidence:
        return "low_confidence"
    if first is not None and first.violation and esc.on_violation:
        return "violation"
    return None


class TieredClassifier:
    """The one entry point the rest of the bot uses to classify."""

    def __init__(
        self,
        tier1: Classifier,
        tier2: Classifier | None = None,
        tier1_effort: str | None = None,
        tier2_effort: str | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        """Efforts override every policy's reasoning_effort for that tier (None: the policy's)."""
        self.tier1 = tier1
        self.tier2 = tier2
        self.tier1_effort = tier1_effort
        self.tier2_effort = tier2_effort
        self.telemetry = telemetry or Telemetry()  # counts every call to a tier, for /metrics

    def pools(self) -> list[EndpointPool]:
        """The tiers that are pools of endpoints (their health is probed in the background)."""
        return [t for t in (self.tier1, self.tier2) if isinstance(t, EndpointPool)]

    async def aclose(self) -> None:
        await self.tier1.aclose()
        if self.tier2 is not None:
            await self.tier2.aclose()

    async def classify(
        self,
        policy: Policy,
        request: ClassifyRequest,
        *,
        escalate: bool = False,
        effort: str | None = None,
        previous: Result | None = None,
    ) -> Result:
        """Classify; `escalate=True` (appeal, moderator request) asks tier 2 as well.

        With `previous` (the stored tier-1 answer) an escalation does not ask tier 1 again.
        """
        if escalate and previous is not None:
            first = previous
        else:
            first = await self.tier1.classify(policy, request, effort=effort or self.tier1_effort)
            self.telemetry.model_call(first)
        cause = escalation_cause(policy, first, escalate)
        if cause is None or self.tier2 is None:
            if cause is not None:
                log.debug("would escalate %s (%s) but no tier 2 is configured", policy.id, cause)
            return first
        second = await self.tier2.classify(policy, request, effort=effort or self.tier2_effort)
        self.telemetry.model_call(second)
        log.info("escalated %s to tier 2 (%s)", policy.id, cause)
        if isinstance(second, Verdict):
            return dataclasses.replace(second, previous=first)
        if isinstance(first, Verdict):
            # Keep the tier-1 answer, and say the second opinion could not be had.
            return dataclasses.replace(first, escalation_failed=second)
        return dataclasses.replace(second, previous=first)
