"""The small HTTP endpoint: /healthz (alive), /readyz (model and platforms), /metrics.

Off unless METRICS_PORT is set. aiohttp serves it on the bot's own event loop (no thread);
aiohttp runs each request in its own task and answers 500 for a handler that raises, so a
failing check never takes the endpoint down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from aiohttp import web

from bot.config import Settings
from bot.core.classifier.pool import EndpointPool
from bot.core.service import ModerationCore
from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)
Probe = Callable[[], Awaitable[tuple[bool, str]]]


@dataclass
class CachedProbe:
    """Runs a probe at most once per `ttl_s`: /readyz may be polled every second."""

    probe: Probe
    ttl_s: float = 10.0
    _at: float = field(default=-1e9, init=False)
    _last: tuple[bool, str] = field(default=(False, "not checked yet"), init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    async def __call__(self) -> tuple[bool, str]:
        async with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                try:
                    self._last = await self.probe()
                except Exception as exc:  # a probe bug reads as "not ready", with the reason
                    self._last = (False, f"probe failed: {exc!r}")
                self._at = time.monotonic()
            return self._last


def ollama_probe(settings: Settings, core: ModerationCore) -> Probe:
    """Ready when the model's circuit is closed and Ollama lists the model."""
    pools = core.classifier.pools()
    if pools and pools[0].tier == 1:
        return pool_probe(pools[0])

    async def probe() -> tuple[bool, str]:
        if core.pipeline.breaker.is_open:
            return False, "model calls paused after repeated failures"
        timeout = httpx.Timeout(3.0, connect=2.0)
        async with httpx.AsyncClient(base_url=settings.ollama_host, timeout=timeout, trust_env=False) as http:
            try:
                resp = await http.post("/api/show", json={"model": settings.ollama_model})
            except httpx.HTTPError as exc:
                return False, f"cannot reach Ollama: {exc.__class__.__name__}"
        if resp.status_code == 404:
            return False, f"{settings.ollama_model} is not pulled"
        return resp.status_code == 200, f"Ollama answered {resp.status_code}"

    return probe


def pool_probe(pool: EndpointPool) -> Probe:
    """Ready while at least one endpoint of the tier-1 pool has the model; names the others."""

    async def probe() -> tuple[bool, str]:
        states = await pool.probe()
        up = [s for s in states if s.healthy]
        down = "; ".join(f"{s.name} {s.state}" for s in states if not s.healthy)
        if not up:
            return False, f"no model endpoint is healthy: {down}"
        return True, f"ready; unhealthy: {down}" if down else "ready"

    return probe


class OpsEndpoint:
    def __init__(
        self,
        metrics: Metrics,
        model: Probe,
        platforms: Mapping[str, Callable[[], bool]],
    ) -> None:
        """`platforms`: name -> "is it connected now?" (the adapters know; the endpoint asks)."""
        self.metrics = metrics
        self.model = CachedProbe(model)
        self.platforms = platforms

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                web.get("/metrics", self._metrics),
            ]
        )
        return app

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        ok, detail = await self.model()
        # A pool says which endpoints are down even while the others keep it ready.
        parts = {"model": detail if not ok or detail.startswith("ready") else "ready"}
        for name, connected in self.platforms.items():
            up = connected()
            ok = ok and up
            parts[name] = "connected" if up else "not connected"
        return ok, parts

    async def _readyz(self, _request: web.Request) -> web.Response:
        ok, parts = await self.readiness()
        return web.json_response({"ready": ok, **parts}, status=200 if ok else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body, content_type = await self.metrics.render(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})


@asynccontextmanager
async def serve_ops(
    settings: Settings,
    core: ModerationCore,
    platforms: Mapping[str, Callable[[], bool]] | None = None,
    model: Probe | None = None,
) -> AsyncIterator[OpsEndpoint | None]:
    """Serve health and metrics while the block runs; yields None when METRICS_PORT is unset."""
    if settings.metrics_port is None:
        yield None
        return
    metrics = Metrics(core)
    endpoint = OpsEndpoint(metrics, model or ollama_probe(settings, core), platforms or {})
    root = logging.getLogger()
    root.addHandler(metrics.collector.tally)
    runner = web.AppRunner(endpoint.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
        await site.start()
        log.info("health and metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
        yield endpoint
    finally:
        root.removeHandler(metrics.collector.tally)
        await runner.cleanup()
