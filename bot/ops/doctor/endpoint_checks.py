"""MODEL_ENDPOINTS: one line per endpoint of a pool, saying whether its model is pulled there."""

from __future__ import annotations

from bot.core.classifier.pool import EndpointPool
from bot.ops.doctor.ollama_check import OllamaFacts
from bot.ops.doctor.result import Check, fail, ok


async def check_endpoints(pool: EndpointPool) -> list[Check]:
    """Probe every endpoint now (what the bot's own probe does every ENDPOINT_PROBE_S)."""
    checks = []
    for status in await pool.probe():
        name = f"model.endpoint[tier{pool.tier} {status.name}]"
        if status.healthy:
            checks.append(ok(name, f"{status.state}, {status.slots} slots"))
        else:
            fix = (
                "start the server there, pull the model on it (`ollama pull <model>`), "
                "or remove the entry from MODEL_ENDPOINTS"
            )
            checks.append(fail(name, status.state, fix))
    return checks


def pool_facts(pool: EndpointPool) -> tuple[OllamaFacts, list[Check]]:
    """What the context and classification checks need to know, from the probe just run."""
    found = any(s.healthy for s in pool.status())
    return OllamaFacts(reachable=found, model_found=found), []
