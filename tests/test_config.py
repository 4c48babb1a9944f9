"""Settings an admin can rely on: every key documented, defaults sane, secrets hidden."""

from __future__ import annotations

from bot.config import Settings
from tests.conftest import ROOT


def test_env_example_lists_every_setting_with_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    keys = {line.split("=", 1)[0] for line in lines if "=" in line and not line.startswith("#")}
    assert keys == {name.upper() for name in Settings.model_fields}
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"{line} has no comment above it"


def test_empty_values_mean_defaults(monkeypatch):
    monkeypatch.setenv("OLLAMA_NUM_CTX", "")
    monkeypatch.setenv("ESCALATION_EFFORT", "")
    settings = Settings()
    assert settings.ollama_num_ctx is None and settings.escalation_effort is None
    assert not settings.has_tier2


def test_every_secret_setting_is_redacted_from_logs(monkeypatch):
    from bot.config import Settings

    monkeypatch.setenv("SLACK_ADMIN_USER_TOKEN", "admin-user-token-value")
    monkeypatch.setenv("ESCALATION_API_KEY", "tier2-key-value")
    secrets = Settings().secret_values()
    assert {"admin-user-token-value", "tier2-key-value"} <= set(secrets)
