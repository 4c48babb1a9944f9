"""The learned screen's memory: model versions, the labels they learn from, random checks.

Models are stored as raw float32 weights plus JSON, never a pickle: a database an attacker could
write must not become code the bot runs. Labels keep hashed features, not message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.store.dialect import Db

# "offer": a model's verdict on a message the screen itself chose (rank as tier 1). Such labels
# train, but never judge a promotion: the screen that chose them would be marked on its own picks.
RANKS = {"offer": 1, "tier1": 1, "tier2": 2, "moderator": 3}
_DECIDED = {"removed": 1, "timed_out": 1, "upheld": 1, "dismissed": 0, "overturned": 0}


@dataclass(frozen=True, slots=True)
class StoredScreen:
    policy_id: str
    version: int
    weights: bytes
    meta_json: str


@dataclass(frozen=True, slots=True)
class LabelRow:
    message_id: str
    space_id: str
    features: bytes
    label: int
    source: str = "tier1"


@dataclass(frozen=True, slots=True)
class DecidedCase:
    policy_id: str
    space_id: str
    message_id: str
    text: str
    label: int
    decided_at: float


@dataclass(frozen=True, slots=True)
class CheckCounts:
    violations: int  # random checks the model found violating
    by_keyword: int  # ... of which the keywords alone would have selected
    by_screen: int  # ... of which keywords or the screen would have selected
    checks: int


class ScreenRepo:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def save_model(self, policy_id: str, weights: bytes, meta_json: str) -> int:
        """Store a promoted model as the policy's next version; that version."""
        async with self._db.transaction():
            row = await self._db.fetchone(
                "SELECT COALESCE(MAX(version), 0) AS v FROM screen_models WHERE policy_id = ?", (policy_id,)
            )
            version = int(row["v"] if row else 0) + 1
            await self._db.execute(
                "INSERT INTO screen_models (policy_id, version, weights, meta_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (policy_id, version, weights, meta_json, self._db.now()),
            )
            # Two older versions are enough to look back; the rest only take space.
            await self._db.execute(
                "DELETE FROM screen_models WHERE policy_id = ? AND version <= ?", (policy_id, version - 3)
            )
        return version

    async def latest_models(self, newer_than: Mapping[str, int] | None = None) -> list[StoredScreen]:
        """The newest model of each policy; with `newer_than` (policy -> version already held), only
        those newer, so a process that polls for other processes' models reads no weights twice."""
        if newer_than is None:
            rows = await self._db.fetchall(
                "SELECT m.* FROM screen_models m JOIN (SELECT policy_id, MAX(version) AS v "
                "FROM screen_models GROUP BY policy_id) latest "
                "ON latest.policy_id = m.policy_id AND latest.v = m.version"
            )
        else:
            latest = await self._db.fetchall(
                "SELECT policy_id, MAX(version) AS v FROM screen_models GROUP BY policy_id"
            )
            rows = []
            for r in latest:
                if int(r["v"]) > newer_than.get(r["policy_id"], 0):
                    row = await self._db.fetchone(
                        "SELECT * FROM screen_models WHERE policy_id = ? AND version = ?",
                        (r["policy_id"], r["v"]),
                    )
                    rows += [row] if row is not None else []
        return [
            StoredScreen(r["policy_id"], int(r["version"]), bytes(r["weights"]), r["meta_json"]) for r in rows
        ]

    async def add_label(
        self, policy_id: str, space_id: str, message_id: str, features: bytes, label: int, source: str
    ) -> None:
        """Remember a label; one per (policy, space, message), a moderator's outranking a model's."""
        rank = RANKS[source]
        await self._db.execute(
            "INSERT INTO screen_labels (policy_id, space_id, message_id, features, label, source, rank, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (policy_id, space_id, message_id) DO "
            "UPDATE SET features = excluded.features, label = excluded.label, source = excluded.source, "
            "rank = excluded.rank, created_at = excluded.created_at "
            "WHERE excluded.rank >= screen_labels.rank",
            (policy_id, space_id, message_id, features, int(label), source, rank, self._db.now()),
        )

    async def labels(self, policy_id: str, limit: int) -> list[LabelRow]:
        """The newest `limit` labels of a policy, oldest first."""
        rows = await self._db.fetchall(
            "SELECT message_id, space_id, features, label, source FROM (SELECT * FROM screen_labels "
            "WHERE policy_id = ? ORDER BY id DESC LIMIT ?) AS newest ORDER BY id",
            (policy_id, limit),
        )
        return [
            LabelRow(r["message_id"], r["space_id"], bytes(r["features"]), int(r["label"]), str(r["source"]))
            for r in rows
        ]

    async def trim_labels(self, policy_id: str, keep: int) -> int:
        """Forget all but the newest `keep` labels of a policy (bounded storage)."""
        return await self._db.execute(
            "DELETE FROM screen_labels WHERE policy_id = ? AND id NOT IN "
            "(SELECT id FROM screen_labels WHERE policy_id = ? ORDER BY id DESC LIMIT ?)",
            (policy_id, policy_id, keep),
        )

    async def decided_cases(self, since: float, limit: int = 500) -> list[DecidedCase]:
        """Cases moderators (or appeals) decided after `since`, with the text the model judged."""
        rows = await self._db.fetchall(
            "SELECT c.policy_id, c.space_id, c.message_id, c.status, c.decided_at, i.text FROM cases c "
            "JOIN verdicts v ON v.id = c.verdict_id JOIN inbox i ON i.id = v.job_id "
            "WHERE c.decided_at > ? AND c.status IN ('removed', 'timed_out', 'upheld', 'dismissed', "
            "'overturned') AND i.text != '' ORDER BY c.decided_at LIMIT ?",
            (since, limit),
        )
        return [
            DecidedCase(
                r["policy_id"],
                r["space_id"],
                r["message_id"],
                r["text"],
                _DECIDED[r["status"]],
                r["decided_at"],
            )
            for r in rows
        ]

    async def sync_mark(self, name: str) -> float:
        row = await self._db.fetchone("SELECT value FROM screen_sync WHERE name = ?", (name,))
        return float(row["value"]) if row else 0.0

    async def set_sync_mark(self, name: str, value: float) -> None:
        await self._db.execute(
            "INSERT INTO screen_sync (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    async def add_check(
        self, policy_id: str, space_id: str, *, keyword: bool, screened: bool, violation: bool
    ) -> None:
        await self._db.execute(
            "INSERT INTO screen_checks (policy_id, space_id, keyword, screened, violation, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (policy_id, space_id, int(keyword), int(screened), int(violation), self._db.now()),
        )

    async def check_counts(self, policy_id: str, space_id: str | None = None) -> CheckCounts:
        """Random checks of a policy (in one space, or pooled over all spaces)."""
        sql = (
            "SELECT COUNT(*) AS n, COALESCE(SUM(violation), 0) AS v, "
            "COALESCE(SUM(violation * keyword), 0) AS k, "
            "COALESCE(SUM(violation * CASE WHEN keyword > screened THEN keyword ELSE screened END), 0) AS s "
            "FROM screen_checks WHERE policy_id = ?"
        )
        params: tuple[str, ...] = (policy_id,)
        if space_id is not None:
            sql += " AND space_id = ?"
            params = (policy_id, space_id)
        row = await self._db.fetchone(sql, params)
        if row is None:
            return CheckCounts(0, 0, 0, 0)
        return CheckCounts(int(row["v"]), int(row["k"]), int(row["s"]), int(row["n"]))
