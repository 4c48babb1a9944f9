"""Settings from the environment or .env. Every key is listed in .env.example."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config_endpoints import EndpointSpec, parse_endpoints

Effort = Literal["low", "medium", "high"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `KEY=` in .env means "use the default"
        extra="ignore",
        case_sensitive=False,
    )

    # Tier 1: gpt-oss-safeguard-20b on Ollama
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "gpt-oss-safeguard:20b"
    ollama_timeout_s: float = Field(default=60.0, gt=0)
    ollama_keep_alive: str = "30m"
    ollama_num_ctx: int | None = Field(default=None, ge=2048)
    ollama_num_predict: int = Field(default=1536, ge=64)
    ollama_stream: bool = False
    ollama_json_format: bool = True
    ollama_slots: int = Field(default=1, ge=1, le=64)  # match OLLAMA_NUM_PARALLEL on the server
    ollama_effort: Effort | None = None  # None: each policy's reasoning_effort

    # Tier 2: gpt-oss-safeguard-120b behind an OpenAI-compatible server (optional)
    escalation_url: str = ""
    escalation_api_key: SecretStr = SecretStr("")
    escalation_model: str = "openai/gpt-oss-safeguard-120b"
    escalation_mode: Literal["chat", "completions"] = "chat"
    escalation_timeout_s: float = Field(default=120.0, gt=0)
    escalation_max_tokens: int = Field(default=2048, ge=64)
    escalation_stream: bool = False
    escalation_json_schema: bool = True
    escalation_effort: Effort | None = None  # None: the policy's reasoning_effort

    # A pool of model servers (donated GPUs): when set, used instead of OLLAMA_HOST/OLLAMA_SLOTS
    # (and, for tier=120b entries, instead of ESCALATION_URL). Format: bot/config_endpoints.py.
    model_endpoints: str = ""
    endpoint_probe_s: float = Field(default=15.0, gt=0)  # how often each endpoint's model is checked

    # Policies
    policy_dir: Path = Path("community_policies")
    policy_warn_tokens: int = Field(default=600, ge=50)
    policy_max_tokens: int = Field(default=10_000, ge=100)

    # The learned screen: offers the model messages no keyword selected, riskiest first
    screen_enabled: bool = True
    screen_random_rate: float = Field(default=0.001, ge=0.0, le=1.0)  # uniform checks, for recall
    screen_min_score: float = Field(default=0.02, ge=0.0, le=1.0)
    screen_offers_per_space: int = Field(default=256, ge=1)
    screen_offer_max_age_s: float = Field(default=120.0, gt=0)
    screen_retrain_after: int = Field(default=20, ge=1)

    # Storage and runtime
    database_path: Path = Path("modbot.db")
    # postgresql://user:password@host/db: several processes share one store and queue. A secret
    # (it may hold a password), so it is redacted from logs like the tokens.
    database_url: SecretStr = SecretStr("")
    # Postgres connections per process: one per model slot at a time, plus intake and the outbox.
    database_pool_size: int = Field(default=16, ge=2, le=200)
    tiktoken_cache_dir: Path | None = None
    log_level: LogLevel = "INFO"
    log_format: Literal["text", "json"] = "text"
    log_libraries: LogLevel = "WARNING"  # discord, slack_bolt, httpx, aiosqlite: quiet unless asked

    # Health and Prometheus metrics over HTTP; off unless METRICS_PORT is set
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"

    # Platforms (each adapter starts only when its credentials are set)
    discord_token: SecretStr = SecretStr("")
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = ""  # empty: what GET /gateway/bot answers
    # Empty: one gateway session, as for most bots. "auto" (Discord's recommended count) or a number:
    # shards, each connected by whichever `modbot run` process locks it (see bot/platforms/discord/shards.py).
    discord_shards: str = Field(default="", pattern=r"^(|auto|[1-9][0-9]{0,4})$")
    slack_bot_token: SecretStr = SecretStr("")
    slack_app_token: SecretStr = SecretStr("")
    slack_signing_secret: SecretStr = SecretStr("")
    slack_admin_user_token: SecretStr = SecretStr("")  # xoxp- of an admin: lets Remove delete
    slack_api_base_url: str = "https://slack.com/api/"
    slack_host: str = "0.0.0.0"  # noqa: S104 - HTTP mode listens for Slack on every interface
    slack_port: int = Field(default=3000, ge=0, le=65535)

    def secret_values(self) -> list[str]:
        """Every secret setting's value (tokens, keys), for redaction: none may reach a log."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]

    @field_validator("model_endpoints")
    @classmethod
    def _endpoints_parse(cls, value: str) -> str:
        parse_endpoints(value)  # EndpointSpecError (a ValueError) names the bad entry
        return value

    def endpoints(self, tier: int) -> list[EndpointSpec]:
        """MODEL_ENDPOINTS entries for one tier (1: 20b, 2: 120b); empty when none are listed."""
        return [e for e in parse_endpoints(self.model_endpoints) if e.tier == tier]

    @property
    def tier1_slots(self) -> int:
        """Model workers: one per slot of the tier-1 pool, or OLLAMA_SLOTS for the single Ollama."""
        pool = self.endpoints(1)
        return sum(e.slots for e in pool) if pool else self.ollama_slots

    @property
    def database(self) -> str | Path:
        """Where the store lives: DATABASE_URL when set (Postgres), else the SQLite file."""
        return self.database_url.get_secret_value().strip() or self.database_path

    @property
    def has_tier2(self) -> bool:
        return bool(self.escalation_url.strip()) or bool(self.endpoints(2))
