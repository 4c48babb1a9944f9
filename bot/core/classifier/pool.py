"""A pool of model endpoints (donated GPUs) that acts as one tier.

Each endpoint has its slots, its own circuit breaker, its own health (is the model pulled there?)
and its own latency figures. A call takes a free slot of a usable endpoint, the least loaded
first; when that call fails for the endpoint's sake (down, busy, model gone) the same request is
tried on another endpoint, so one broken GPU costs a retry, never a verdict. Only an answer
from a call that succeeded is ever returned as a verdict.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.aio import wait_event
from bot.core.breaker import CircuitBreaker
from bot.core.classifier.base import ClassifyRequest
from bot.core.messages import Result, Unavailable, Verdict
from bot.core.policies import Policy
from bot.core.telemetry import Histogram

log = logging.getLogger(__name__)
PROBE_TIMEOUT_S = 5.0


class EndpointTier(Protocol):
    """A tier client for one server that can also say whether its model is there."""

    tier: int
    model: str

    async def classify(
        self, policy: Policy, request: ClassifyRequest, *, effort: str | None = None
    ) -> Result: ...

    async def model_listed(self, timeout_s: float = ...) -> tuple[bool, str]: ...

    async def aclose(self) -> None: ...


@dataclass
class Endpoint:
    name: str
    client: EndpointTier
    slots: int
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    healthy: bool | None = None  # None: not probed yet (given work; a failure is retried elsewhere)
    detail: str = "not probed yet"
    in_flight: int = 0
    latency: Histogram = field(default_factory=Histogram)  # seconds per call that got an answer
    outcomes: Counter[str] = field(default_factory=Counter)  # "verdict" or the reason there was none

    @property
    def usable(self) -> bool:
        """May get work: not known to lack the model, and its circuit closed or due for its probe."""
        return self.healthy is not False and (not self.breaker.is_open or self.breaker.reopens_in() == 0)

    @property
    def state(self) -> str:
        if self.healthy is False:
            return f"unhealthy: {self.detail}"
        if self.breaker.is_open and self.breaker.reopens_in() != 0:
            return "paused: calls failed repeatedly (circuit open)"
        return "healthy" if self.healthy else "not probed yet"


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    name: str
    healthy: bool
    state: str
    slots: int
    in_flight: int
    calls: int
    mean_latency_s: float | None


class EndpointPool:
    """Looks like one tier to TieredClassifier; `slots` is how many workers it can keep busy."""

    def __init__(self, endpoints: Sequence[Endpoint], tier: int = 1) -> None:
        if not endpoints:
            raise ValueError("a pool needs at least one endpoint")
        self.endpoints = list(endpoints)
        self.tier = tier
        self.model = self.endpoints[0].client.model
        self._wake = asyncio.Event()

    @property
    def slots(self) -> int:
        return sum(e.slots for e in self.endpoints)

    async def aclose(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.client.aclose()

    # -- calls -------------------------------------------------------------------------------

    async def classify(
        self, policy: Policy, request: ClassifyRequest, *, effort: str | None = None
    ) -> Result:
        tried: set[str] = set()
        last: Unavailable | None = None
        while True:
            endpoint = await self._acquire(tried)
            if endpoint is None:
                return last or self._none_usable(policy)
            try:
                result = await endpoint.client.classify(policy, request, effort=effort)
            except BaseException:
                endpoint.breaker.neutral()  # cancelled or a bug: nothing learnt about the server
                raise
            finally:
                endpoint.in_flight -= 1
                self._changed()
            endpoint.outcomes["verdict" if isinstance(result, Verdict) else result.reason] += 1
            if isinstance(result, Verdict):
                endpoint.latency.observe(result.latency_ms / 1000)
                endpoint.breaker.success()
                return result
            if not (result.transient or result.reason == "model_missing"):
                endpoint.breaker.neutral()  # bad output: the pipeline counts those attempts
                return result
            # The endpoint failed, not the message: try the same request on another endpoint.
            endpoint.breaker.failure()
            if result.reason == "model_missing":
                self._mark(endpoint, False, result.detail)
            tried.add(endpoint.name)
            last = result
            log.warning(
                "endpoint %s: %s; trying another endpoint", endpoint.name, result.reason,
                extra={"endpoint": endpoint.name, "reason": result.reason},
            )  # fmt: skip

    async def _acquire(self, tried: set[str]) -> Endpoint | None:
        """A free slot on a usable endpoint not tried yet; None when no such endpoint exists."""
        while True:
            wake = self._wake  # taken before looking, so no change between the two is missed
            open_waits: list[float] = []
            candidates: list[Endpoint] = []
            for e in self.endpoints:
                if e.name in tried or e.healthy is False:
                    continue
                reopens = e.breaker.reopens_in()
                if e.breaker.is_open and reopens is None:
                    open_waits.append(1.0)  # its half-open probe call is running elsewhere
                    continue
                if e.breaker.is_open and reopens is not None and reopens > 0:
                    continue  # paused: no work until its cooldown ends
                candidates.append(e)
            if not candidates and not open_waits:
                return None
            free = [e for e in candidates if e.in_flight < e.slots]
            free.sort(key=lambda e: (e.in_flight / e.slots, sum(e.outcomes.values())))
            for e in free:
                if e.breaker.try_enter():
                    e.in_flight += 1
                    return e
            await wait_event(wake, min(open_waits, default=None))

    def _none_usable(self, policy: Policy) -> Unavailable:
        states = "; ".join(f"{e.name}: {e.state}" for e in self.endpoints)
        return Unavailable(
            reason="connection", detail=f"no model endpoint is usable ({states})",
            tier=self.tier, model=self.model, policy=policy.ref,
        )  # fmt: skip

    def _changed(self) -> None:
        """Wake every caller waiting for a slot: one was freed, or an endpoint's health changed."""
        wake, self._wake = self._wake, asyncio.Event()
        wake.set()

    def _mark(self, endpoint: Endpoint, healthy: bool, detail: str) -> None:
        if endpoint.healthy is not healthy:
            level = logging.INFO if healthy else logging.WARNING
            log.log(level, "endpoint %s is %s: %s", endpoint.name, "healthy" if healthy else "unhealthy",
                    detail, extra={"endpoint": endpoint.name})  # fmt: skip
        endpoint.healthy, endpoint.detail = healthy, detail
        self._changed()

    # -- health ------------------------------------------------------------------------------

    async def probe(self) -> list[EndpointStatus]:
        """Ask every endpoint, at once, whether it lists the model; update and return the states."""
        answers = await asyncio.gather(
            *(e.client.model_listed(PROBE_TIMEOUT_S) for e in self.endpoints), return_exceptions=True
        )
        for endpoint, answer in zip(self.endpoints, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, asyncio.CancelledError):
                    raise answer
                healthy, detail = False, f"probe failed: {answer!r}"
            else:
                healthy, detail = answer
            self._mark(endpoint, healthy, detail)
        return self.status()

    async def watch(self, interval_s: float) -> None:
        """Probe every endpoint every `interval_s` until cancelled (a supervised background task)."""
        while True:
            await self.probe()
            await asyncio.sleep(interval_s)

    def status(self) -> list[EndpointStatus]:
        out = []
        for e in self.endpoints:
            calls = e.latency.count
            mean = e.latency.total / calls if calls else None
            out.append(EndpointStatus(e.name, e.usable, e.state, e.slots, e.in_flight,
                                      sum(e.outcomes.values()), mean))  # fmt: skip
        return out
