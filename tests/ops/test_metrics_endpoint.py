"""/healthz, /readyz and /metrics as Prometheus and a container healthcheck see them."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.ops.endpoint import serve_ops
from tests.conftest import ROOT
from tests.ops.conftest import AUTHOR, FLAGGED_TEXT, HARMLESS_TEXT, MOD, SPACE, message


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, keyed by (name, sorted labels), through prometheus-client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def scrape(port: int, path: str = "/metrics") -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
        return await http.get(f"http://127.0.0.1:{port}{path}")


async def test_metrics_after_a_flagged_message_and_a_decision(bot):
    core = bot.runtime.core
    async with serve_ops(bot.settings, core, {"test": lambda: True}) as endpoint:
        assert endpoint is not None
        await core.submit(message(1, FLAGGED_TEXT))
        await core.submit(message(2, HARMLESS_TEXT))
        await core.submit(message(3, FLAGGED_TEXT))  # same text: served from the cache
        await core.settle()
        [flag, *_] = bot.platform.flags
        assert (await core.decide(flag.case_id, MOD, "remove")).ok
        assert (await core.appeal(flag.case_id, AUTHOR, "it was a joke")).ok
        resp = await scrape(bot.settings.metrics_port)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    got = samples(resp.text)
    policy = flag.policy_id
    assert got[("modbot_messages_seen_total", ())] == 3
    assert got[("modbot_prefilter_candidates_total", (("policy", policy),))] >= 2
    calls = got[("modbot_model_calls_total", (("outcome", "verdict"), ("tier", "1")))]
    assert calls == len(bot.fake.requests)  # one count per real call to the model
    assert got[("modbot_model_latency_seconds_count", (("tier", "1"),))] == calls
    assert got[("modbot_model_latency_seconds_bucket", (("le", "+Inf"), ("tier", "1")))] == calls
    assert got[("modbot_cache_hits_total", ())] >= 1
    assert got[("modbot_flags_total", (("policy", policy), ("space", SPACE)))] == 2
    removed = (("decision", "removed"), ("policy", policy), ("space", SPACE))
    assert got[("modbot_moderator_decisions", removed)] == 1
    assert got[("modbot_precision", (("policy", policy), ("space", SPACE)))] == 1.0
    assert got[("modbot_appeals", (("space", SPACE), ("status", "pending")))] == 1
    assert got[("modbot_queue_depth", ())] == 0
    assert got[("modbot_oldest_job_age_seconds", ())] == 0
    assert got[("modbot_outbox_retries_total", ())] == 0
    assert got[("modbot_model_circuit_open", ())] == 0
    # Every series the shipped Grafana dashboard plots is one this endpoint serves.
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"modbot_[a-z_]+", target["expr"])
    }
    served = {name for name, _labels in got}
    assert len(queried) >= 12 and queried <= served, queried - served


async def test_outbox_retries_and_errors_are_counted(bot):
    core = bot.runtime.core
    bot.platform.fail_posts = 1  # the mod channel post fails once, then works
    async with serve_ops(bot.settings, core) as endpoint:
        assert endpoint is not None
        await core.submit(message(1, FLAGGED_TEXT))
        await core.pipeline.drain(10)
        await core.outbox.run_once()
        got = samples((await scrape(bot.settings.metrics_port)).text)
        assert got[("modbot_outbox_retries_total", ())] == 1
        assert got[("modbot_outbox_items", (("status", "pending"),))] >= 1
        bot.fake.models = set()  # the model disappears: every call is an error now
        await core.submit(message(2, "another aimbot for sale zq-unique-99"))
        missing = ("modbot_errors_total", (("kind", "model_model_missing"),))
        for _ in range(100):  # the job stays on disk and is retried later: poll until it failed once
            got = samples((await scrape(bot.settings.metrics_port)).text)
            if got.get(missing, 0) >= 1 and got.get(("modbot_jobs", (("status", "pending"),)), 0) >= 1:
                break  # the call failed, and the job went back on disk for a later retry
            await asyncio.sleep(0.05)
        assert got[missing] >= 1
        assert got[("modbot_jobs", (("status", "pending"),))] >= 1  # kept, never lost
        calls = got[("modbot_model_calls_total", (("outcome", "model_missing"), ("tier", "1")))]
        assert calls >= 1


async def test_health_and_readiness(bot):
    connected = {"test": True}
    core = bot.runtime.core
    async with serve_ops(bot.settings, core, {"test": lambda: connected["test"]}) as endpoint:
        assert endpoint is not None
        port = bot.settings.metrics_port
        assert (await scrape(port, "/healthz")).json() == {"status": "alive"}
        ready = await scrape(port, "/readyz")
        assert ready.status_code == 200 and ready.json() == {
            "ready": True,
            "model": "ready",
            "test": "connected",
        }
        connected["test"] = False
        ready = await scrape(port, "/readyz")
        assert ready.status_code == 503 and ready.json()["test"] == "not connected"
        bot.fake.models = set()
        endpoint.model.ttl_s = 0  # do not wait for the cached answer to expire
        ready = await scrape(port, "/readyz")
        assert ready.status_code == 503
        assert ready.json()["model"] == "gpt-oss-safeguard:20b is not pulled"


async def test_no_endpoint_unless_metrics_port_is_set(bot):
    settings = Settings(ollama_host=bot.fake.url)
    async with serve_ops(settings, bot.runtime.core) as endpoint:
        assert endpoint is None
