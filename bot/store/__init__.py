"""Storage: every SQL statement of the project lives in this package.

``Store.open(path_or_url)`` connects to a SQLite file (WAL, foreign keys, busy timeout) or, for a
``postgresql://`` URL, to Postgres (a pool shared by the repositories; several processes may share the
database and its queue: ``claims``, ``workers``), applies the numbered migrations of that dialect in
``migrations/<dialect>/`` and exposes one repository per table family. Methods return frozen dataclasses from
``bot.store.records``.
"""

from bot.store.cases import CaseConflict
from bot.store.records import (
    Appeal,
    AuditEntry,
    Case,
    Job,
    NewJob,
    OutboxItem,
    PolicyVersion,
    Space,
    SpacePolicy,
    StoredVerdict,
)
from bot.store.store import Store

__all__ = [
    "Appeal",
    "AuditEntry",
    "Case",
    "CaseConflict",
    "Job",
    "NewJob",
    "OutboxItem",
    "PolicyVersion",
    "Space",
    "SpacePolicy",
    "Store",
    "StoredVerdict",
]
