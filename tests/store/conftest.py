"""Fixtures for the storage tests: a controllable clock and an open store of each backend.

Every test that takes ``store`` runs twice: on SQLite in memory and on a fresh Postgres database (a
copy of a migrated template, so each test starts from an empty, current schema).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import Store
from tests.store._helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_target(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return ":memory:"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(store_target: str, clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(store_target, clock=clock) as opened:
        yield opened
