"""`modbot doctor` with MODEL_ENDPOINTS: one line per endpoint, the broken one named with its fix."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.ops.doctor import run_checks
from tests.fakes import FakeOllama


async def test_doctor_names_the_endpoint_without_the_model(tmp_path: Path):
    async with FakeOllama() as good, FakeOllama(models=set()) as bare:
        settings = Settings(
            model_endpoints=f"ollama={good.url};slots=2, ollama={bare.url}",
            ollama_host="http://127.0.0.1:9",  # not used with a pool: no line about it
            database_path=tmp_path / "modbot.db",
        )
        checks = {c.name: c for c in await run_checks(settings)}
    assert checks[f"model.endpoint[tier1 {good.url}]"].ok
    line = checks[f"model.endpoint[tier1 {bare.url}]"].line()
    name = f"model.endpoint[tier1 {bare.url}]"
    assert line.startswith(f"FAIL {name}: unhealthy: gpt-oss-safeguard:20b is not pulled")
    assert "ollama pull" in line
    assert "ollama.reachable" not in checks
    assert checks["model.classify"].ok  # the pool sends the doctor's call to the endpoint that works
    assert len(bare.requests) == 0
