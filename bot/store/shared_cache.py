"""The verdict cache shared by every process on one Postgres, with single-flight across them.

Behind each process's in-memory ``VerdictCache`` (which already shares calls in flight within the
process): a miss there looks in ``verdict_cache``; a miss there takes a transaction-scoped advisory
lock on the key, looks again, and only then calls the model. A second process asking for the same
key meanwhile waits on that lock and then finds the answer, so a flood of one text spread over
several processes costs one model call. Only verdicts are stored (an outage is retried), and rows
older than the cache's lifetime are deleted as new ones arrive: a verdict's reasoning may quote a
member, so it is not kept longer than the in-memory cache keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.messages import PolicyRef, Result, Unavailable, Verdict
from bot.store.db import dumps
from bot.store.pg import PgDatabase

LOCK_CLASS = 4242  # first key of the two-int advisory locks that single-flight one cache key
DEFAULT_TTL_S = 6 * 3600.0


def result_from_dict(data: dict[str, Any]) -> Result:
    """The inverse of ``Verdict.to_dict`` / ``Unavailable.to_dict``."""
    fields = dict(data)
    kind = fields.pop("kind")
    fields["policy"] = PolicyRef(**fields["policy"])
    previous = fields.get("previous")
    fields["previous"] = result_from_dict(previous) if previous else None
    if kind == "unavailable":
        return Unavailable(**fields)
    failed = fields.get("escalation_failed")
    fields["escalation_failed"] = result_from_dict(failed) if failed else None
    fields["rule_ids"] = tuple(fields["rule_ids"])
    return Verdict(**fields)


class SharedVerdictCache:
    def __init__(self, db: PgDatabase, ttl_s: float = DEFAULT_TTL_S) -> None:
        self._db = db
        self.ttl_s = ttl_s

    async def get_or_call(self, key: str, call: Callable[[], Awaitable[Result]]) -> tuple[Result, bool]:
        """The stored answer, or one fresh call per key across processes. (result, was_cached)."""
        found = await self._lookup(key)
        if found is not None:
            return found, True
        # The lock (and its connection) is held for the model call: others asking for this key wait.
        async with self._db.transaction(), self._db.connection() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", LOCK_CLASS, key)
            found = await self._lookup(key)
            if found is not None:
                return found, True
            result = await call()
            if isinstance(result, Verdict):
                now = self._db.now()
                await conn.execute("DELETE FROM verdict_cache WHERE created_at < $1", now - self.ttl_s)
                await conn.execute(
                    "INSERT INTO verdict_cache (key, verdict_json, created_at) VALUES ($1, $2, $3) "
                    "ON CONFLICT (key) DO UPDATE SET verdict_json = $2, created_at = $3",
                    key, dumps(result.to_dict()), now,
                )  # fmt: skip
            return result, False

    async def _lookup(self, key: str) -> Result | None:
        async with self._db.connection() as conn:
            text = await conn.fetchval(
                "SELECT verdict_json FROM verdict_cache WHERE key = $1 AND created_at >= $2",
                key, self._db.now() - self.ttl_s,
            )  # fmt: skip
        return result_from_dict(json.loads(text)) if text else None
