"""Fixtures for the storage tests: a controllable clock and an open in-memory store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import Store
from tests.store._helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(clock: FakeClock) -> AsyncIterator[Store]:
    async with await Store.open(":memory:", clock=clock) as opened:
        yield opened
