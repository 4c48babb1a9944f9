"""Builders shared by the storage tests."""

from __future__ import annotations

from typing import Any

from bot.core.messages import ContextLine, IncomingMessage, PolicyRef, Verdict
from bot.store import NewJob, Store

T0 = 1_700_000_000.0
DAY = 86400.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def message(message_id: str = "m1", text: str = "hello there", space_id: str = "g1") -> IncomingMessage:
    return IncomingMessage(
        platform="discord",
        space_id=space_id,
        channel_id="c1",
        channel_name="general",
        message_id=message_id,
        author_id="u1",
        author_name="alice",
        text=text,
        context=(ContextLine("bob", "earlier words"),),
    )


def new_job(
    message_id: str = "m1", policy_id: str = "spam", text: str = "hello there", space_id: str = "g1"
) -> NewJob:
    msg = message(message_id, text, space_id)
    return NewJob.from_message(msg, policy_id=policy_id, policy_version=1, policy_hash="h1")


def verdict(violation: bool = True, tier: int = 1, previous: Verdict | None = None) -> Verdict:
    return Verdict(
        violation=violation,
        confidence="high",
        rule_ids=("SP1",),
        category="spam",
        rationale="links to a scam",
        reasoning="the member's words: buy cheap coins",
        tier=tier,
        model=f"tier{tier}",
        policy=PolicyRef("spam", 1, "h1"),
        latency_ms=12.5,
        previous=previous,
    )


def case_fields(message_id: str = "m1", policy_id: str = "spam", space_id: str = "g1") -> dict[str, Any]:
    return {
        "space_id": space_id,
        "platform": "discord",
        "channel_id": "c1",
        "message_id": message_id,
        "author_id": "u1",
        "author_name": "alice",
        "policy_id": policy_id,
        "policy_version": 1,
        "rule_ids": ("SP1",),
        "category": "spam",
        "rationale": "links to a scam",
        "confidence": "high",
        "tier": 1,
        "text": "buy cheap coins " * 40,
    }


async def table_columns(store: Store) -> dict[str, set[str]]:
    """Every table of the store's schema and its column names, whichever the backend."""
    if store.db.dialect == "postgres":
        rows = await store.db.fetchall(
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        found: dict[str, set[str]] = {}
        for row in rows:
            found.setdefault(str(row["t"]), set()).add(str(row["c"]))
        return found
    tables = await store.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    result: dict[str, set[str]] = {}
    for table in tables:
        name = str(table["name"])
        if name.startswith("sqlite_"):
            continue
        columns = await store.db.fetchall(f"SELECT name FROM pragma_table_info('{name}')")  # noqa: S608
        result[name] = {str(c["name"]) for c in columns}
    return result
