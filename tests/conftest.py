"""Shared fixtures. No test reaches beyond 127.0.0.1, and none reads the developer's .env."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from openai_harmony import HarmonyEncoding

from bot.core.policies import Policy, TokenLimits, load_policy_dir, parse_policy
from bot.core.tokens import TokenCounter, ensure_encoding_files, load_encoding
from bot.store import Store
from tests.pg_server import PgCluster, running_cluster

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "community_policies"
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths and socketpairs stay on this machine
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tokenizer_dir: Path) -> None:
    """Refuse non-loopback connections; isolate settings from the developer's machine."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_ex(self: socket.socket, address: object) -> int:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("POLICY_DIR", str(POLICY_DIR))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tokenizer_dir))
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(tokenizer_dir))
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")  # nothing listens: tests set it
    monkeypatch.delenv("ESCALATION_URL", raising=False)
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    # The learned screen spends idle model capacity on extra checks; flows that count model calls
    # keep to keywords. Its own tests (tests/core/test_screen*.py) build it explicitly.
    monkeypatch.setenv("SCREEN_ENABLED", "false")


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_encoding_files(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture(scope="session")
def encoding(tokenizer_dir: Path) -> HarmonyEncoding:
    return load_encoding(tokenizer_dir)


@pytest.fixture(scope="session")
def tokens(encoding: HarmonyEncoding) -> TokenCounter:
    return TokenCounter(encoding)


@pytest.fixture(scope="session")
def library(tokens: TokenCounter) -> dict[str, Policy]:
    policies, problems = load_policy_dir([POLICY_DIR], tokens.count, TokenLimits())
    errors = [str(p) for p in problems if not p.warning]
    assert not errors, errors
    return policies


@pytest.fixture
def make_policy(tokens: TokenCounter) -> Iterator[object]:
    def make(text: str, source: str = "test.yaml") -> Policy:
        return parse_policy(text, source, tokens.count, TokenLimits())

    yield make


# -- Postgres ----------------------------------------------------------------------------------

TEMPLATE = "modbot_template"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway cluster per session, with a migrated template for fresh databases."""
    with running_cluster() as cluster:
        cluster.psql(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')

        async def migrate() -> None:
            await (await Store.open(cluster.url(TEMPLATE))).close()

        asyncio.run(migrate())
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, migrated Postgres database of its own."""
    return pg_cluster.new_database(TEMPLATE)
