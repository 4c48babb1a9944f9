"""MODEL_ENDPOINTS against two fake Ollama servers: work is shared, a broken one is routed around."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import Runtime, build_runtime, install_library
from bot.config import Settings
from bot.core.classifier.pool import EndpointPool
from bot.ops.doctor.endpoint_checks import check_endpoints
from bot.ops.endpoint import ollama_probe
from bot.ops.metrics import Metrics
from tests.core_flow.conftest import stand_in
from tests.fakes import FakeOllama, Reply
from tests.fakes.recording_platform import RecordingPlatform
from tests.ops.conftest import SPACE, message

MODEL = "gpt-oss-safeguard:20b"


@dataclass
class Pooled:
    runtime: Runtime
    a: FakeOllama  # 2 slots
    b: FakeOllama  # 1 slot
    settings: Settings

    @property
    def pool(self) -> EndpointPool:
        tier1 = self.runtime.core.classifier.tier1
        assert isinstance(tier1, EndpointPool)
        return tier1

    async def moderate(self, first: int, count: int) -> int:
        """Submit `count` distinct flagged messages, wait until all are classified; jobs queued."""
        queued = 0
        for n in range(first, first + count):
            result = await self.runtime.core.submit(message(n, f"selling my aimbot config, dm me zq-{n}"))
            queued += result.queued
        await self.runtime.core.pipeline.drain(30)
        return queued


@pytest.fixture
async def pooled(tmp_path: Path) -> AsyncIterator[Pooled]:
    async with FakeOllama(stand_in, slots=2) as a, FakeOllama(stand_in, slots=1) as b:
        settings = Settings(
            model_endpoints=f"ollama={a.url};slots=2, ollama={b.url};slots=1",
            ollama_host="http://127.0.0.1:9",  # unused once MODEL_ENDPOINTS is set
            endpoint_probe_s=0.05,
            screen_enabled=False,  # keyword candidates only: every model call is a counted job
            database_path=tmp_path / "modbot.db",
        )
        async with build_runtime(settings, {"test": RecordingPlatform()}) as runtime:
            await runtime.core.ensure_space(
                SPACE, "test", "test server", mod_channel_id="mods", budget_per_minute=6000
            )  # a budget that never holds work back: the pool, not the space, is under test
            await install_library(runtime, SPACE)
            yield Pooled(runtime, a, b, settings)


async def until(condition: object, what: str) -> None:
    """Wait for a background change (a probe); a generous bound only so a bug fails, not hangs."""
    async with asyncio.timeout(20):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def test_one_worker_per_slot_and_work_on_both_endpoints(pooled):
    assert pooled.settings.tier1_slots == 3
    assert len(pooled.runtime.core._tasks.running("model-worker-")) == 3
    queued = await pooled.moderate(1, 12)
    stats = pooled.runtime.core.pipeline.stats
    assert queued > 0 and stats.verdicts == queued and stats.failed == 0
    assert len(pooled.a.requests) > 0 and len(pooled.b.requests) > 0
    assert len(pooled.a.requests) + len(pooled.b.requests) == queued
    # Never more calls on an endpoint than its slots.
    assert pooled.a.peak_active <= 2 and pooled.b.peak_active <= 1
    # Each endpoint's latency, as Prometheus scrapes it.
    body, _type = await Metrics(pooled.runtime.core).render()
    text = body.decode()
    for fake in (pooled.a, pooled.b):
        labels = f'{{endpoint="{fake.url}",tier="1"}}'
        assert f"modbot_endpoint_latency_seconds_count{labels} {len(fake.requests)}.0" in text
        assert f"modbot_endpoint_healthy{labels} 1.0" in text


async def test_an_endpoint_without_the_model_is_routed_around_until_it_has_it_again(pooled):
    pooled.b.models = set()  # the donor removed the model
    queued = await pooled.moderate(100, 8)
    stats = pooled.runtime.core.pipeline.stats
    # Everything classified, by the other endpoint, at once: no job gave up or waited for a retry.
    assert stats.verdicts == queued and stats.failed == 0 and stats.retries == 0
    assert len(pooled.a.requests) == queued
    await until(lambda: pooled.pool.endpoints[1].healthy is False, "the probe notices")
    ready, detail = await ollama_probe(pooled.settings, pooled.runtime.core)()
    assert ready and pooled.b.url in detail and "not pulled" in detail and pooled.a.url not in detail
    doctor = {c.name: c for c in await check_endpoints(pooled.pool)}
    assert doctor[f"model.endpoint[tier1 {pooled.a.url}]"].ok
    assert not doctor[f"model.endpoint[tier1 {pooled.b.url}]"].ok

    pooled.b.models = {MODEL}  # pulled again: the background probe lets it work again
    await until(lambda: pooled.pool.endpoints[1].healthy is True, "the probe notices")
    before = len(pooled.b.requests)
    queued = await pooled.moderate(200, 8)
    assert pooled.runtime.core.pipeline.stats.failed == 0
    assert len(pooled.b.requests) > before
    assert await ollama_probe(pooled.settings, pooled.runtime.core)() == (True, "ready")


async def test_an_endpoint_that_goes_down_loses_no_message(pooled):
    await pooled.b.stop()
    queued = await pooled.moderate(300, 12)
    stats = pooled.runtime.core.pipeline.stats
    assert stats.verdicts == queued and stats.failed == 0 and stats.retries == 0
    assert len(pooled.a.requests) == queued
    ready, detail = await ollama_probe(pooled.settings, pooled.runtime.core)()
    assert ready and f"{pooled.b.url} unhealthy: cannot reach" in detail

    await pooled.b.start()  # back, on the same address
    await until(lambda: pooled.pool.endpoints[1].usable, "the probe and the breaker let it work")
    before = len(pooled.b.requests)
    await pooled.moderate(400, 8)
    assert len(pooled.b.requests) > before and pooled.runtime.core.pipeline.stats.failed == 0


async def test_no_healthy_endpoint_means_not_ready_and_no_verdict(pooled):
    pooled.a.models = set()
    pooled.b.models = set()
    ready, detail = await ollama_probe(pooled.settings, pooled.runtime.core)()
    assert not ready and pooled.a.url in detail and pooled.b.url in detail
    await pooled.runtime.core.submit(message(500, "selling my aimbot config, dm me zq-500"))
    stats = pooled.runtime.core.pipeline.stats
    await until(lambda: stats.retries >= 1, "a worker tried the job")  # and put it back, unjudged
    assert stats.verdicts == 0 and stats.failed == 0
    assert pooled.a.requests == [] and pooled.b.requests == []  # no call to an endpoint without the model


async def test_an_endpoint_that_keeps_failing_is_paused_and_its_work_done_elsewhere(pooled):
    pooled.b.responder = lambda _body: Reply(status=500, error="CUDA error: out of memory")
    queued = await pooled.moderate(600, 20)
    stats = pooled.runtime.core.pipeline.stats
    assert stats.verdicts == queued and stats.failed == 0 and stats.retries == 0
    assert len(pooled.a.requests) == queued  # every verdict came from the endpoint that answered
    assert pooled.pool.endpoints[1].breaker.is_open
    ready, detail = await ollama_probe(pooled.settings, pooled.runtime.core)()
    assert ready and f"{pooled.b.url} paused: calls failed repeatedly" in detail
