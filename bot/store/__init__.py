"""Storage: every SQL statement of the project lives in this package.

``Store.open(path)`` connects (WAL, foreign keys, busy timeout), applies the numbered migrations in
``migrations/`` and exposes one repository per table family. Methods return frozen dataclasses from
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
