"""Storage faults in one line: what is wrong with the database file, and what to do.

SQLite reports a read-only file, a file that is not a database, a damaged one or a full disk as
bare exceptions; an admin should read a sentence naming the file and the fix, not a traceback.
"""

from __future__ import annotations

import sqlite3

import asyncpg

StorageFault = sqlite3.Error  # what the store raises when the file itself is the problem
# A statement broke a constraint (unique, foreign key, check), on either backend.
IntegrityFault = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
# A statement could not run (no such table, bad SQL), on either backend.
StatementFault = (sqlite3.OperationalError, asyncpg.PostgresError)

_ADVICE = (
    ("readonly database", "{path} is read-only: give modbot write access to the file and its folder, "
     "or set DATABASE_PATH to a writable place"),
    ("unable to open database file", "cannot open {path}: check that the path is a file (not a folder) "
     "in a folder modbot can write, or set DATABASE_PATH"),
    ("file is not a database", "{path} is not a modbot database: point DATABASE_PATH at the right "
     "file, or move this one away to start a new one"),
    ("malformed", "{path} is damaged: restore it from a backup, or try `sqlite3 {path} .recover`; "
     "move it away to start a new one"),
    ("disk is full", "the disk holding {path} is full: free some space and run again; what was "
     "already stored is kept"),
    ("database is locked", "{path} is locked by another process (another modbot?): stop it, or "
     "use another DATABASE_PATH"),
    ("disk i/o error", "reading or writing {path} failed (disk I/O error): check the disk and "
     "the file system"),
)  # fmt: skip


def explain(exc: sqlite3.Error, path: str) -> str:
    """One line for the admin: the file, what is wrong with it, and what to do."""
    text = str(exc).lower()
    for needle, advice in _ADVICE:
        if needle in text:
            return advice.format(path=path)
    return f"storage error in {path}: {exc}"
