"""Opening a database brings it to the newest schema exactly once; reopening keeps the data."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from bot.store.db import Database
from bot.store.faults import StatementFault
from bot.store.migrate import Migration, apply_migrations, packaged_migrations, split_statements
from tests.store._helpers import FakeClock, new_job, table_columns


async def test_new_database_is_at_newest_version(tmp_path: Path) -> None:
    newest = packaged_migrations()[-1].version
    async with await Store.open(tmp_path / "bot.db") as store:
        assert await store.schema_version() == newest


async def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "data" / "bot.db"  # the folder is created on first open
    async with await Store.open(path, clock) as store:
        await store.spaces.upsert("g1", "discord", "Guild", retention_days=7)
        version = await store.schema_version()

    async with await Store.open(path, clock) as store:
        assert await store.schema_version() == version
        space = await store.spaces.get("g1")
        assert space is not None and space.retention_days == 7
        rows = await store.db.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in packaged_migrations()]


async def test_only_new_migrations_run_on_an_existing_database(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "bot.db"
    async with await Store.open(path, clock) as store:
        await store.spaces.upsert("g1", "discord")
        base = packaged_migrations()
        extra = Migration(base[-1].version + 1, "add_note", "ALTER TABLE spaces ADD COLUMN note TEXT;")
        assert await apply_migrations(store.db, [*base, extra]) == [extra.version]
        assert await apply_migrations(store.db, [*base, extra]) == []
        assert await store.schema_version() == extra.version


async def test_a_failing_migration_leaves_the_previous_version(store: Store) -> None:
    before = await store.schema_version()
    broken = Migration(before + 1, "broken", "CREATE TABLE t (x INT);\nINSERT INTO nowhere VALUES (1);")
    with pytest.raises(StatementFault):
        await apply_migrations(store.db, [broken])
    assert await store.schema_version() == before
    assert "t" not in await table_columns(store)


async def test_connection_settings(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "bot.db") as store:
        mode = await store.db.fetchone("PRAGMA journal_mode")
        keys = await store.db.fetchone("PRAGMA foreign_keys")
        busy = await store.db.fetchone("PRAGMA busy_timeout")
        assert mode is not None and mode[0] == "wal"
        assert keys is not None and keys[0] == 1
        assert busy is not None and busy[0] > 0


def test_statements_split_like_sqlite_reads_them() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT 'x;y');
    CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'z'; END;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert "'x;y'" in statements[0] and statements[1].strip().endswith("END;")


async def test_both_dialects_ship_the_same_versions_and_schema(pg_url: str) -> None:
    sqlite_versions = [(m.version, m.name) for m in packaged_migrations("sqlite")]
    assert sqlite_versions == [(m.version, m.name) for m in packaged_migrations("postgres")]
    async with await Store.open(":memory:") as lite, await Store.open(pg_url) as pg:
        assert await lite.schema_version() == await pg.schema_version() == sqlite_versions[-1][0]
        assert await table_columns(lite) == await table_columns(pg)


async def test_a_sqlite_file_from_before_the_shared_queue_is_upgraded_and_keeps_its_data(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "old.db"
    db = await Database.connect(str(path), clock)  # a file an older modbot wrote, at schema 3
    try:
        await apply_migrations(db, [m for m in packaged_migrations("sqlite") if m.version <= 3])
        await db.execute(
            "INSERT INTO spaces (id, platform, name, created_at) VALUES ('g1', 'discord', 'Guild', 0)"
        )
    finally:
        await db.close()
    async with await Store.open(path, clock) as store:
        assert await store.schema_version() == packaged_migrations("sqlite")[-1].version
        space = await store.spaces.get("g1")
        assert space is not None and space.name == "Guild"
        [job_id] = await store.inbox.add_many([new_job("m1")])
        assert await store.inbox.lease(job_id)  # the queue works on the upgraded file
