-- The inbox and outbox as a queue that several processes share (used by the Postgres backend; the
-- same tables exist here so both dialects keep one schema and one set of repositories).

-- Who holds a lease, and the token that fences it: a complete/retry/fail names the token it was
-- given, so a process whose lease was taken back (it died, or hung) cannot finish the job again.
ALTER TABLE inbox ADD COLUMN lease_owner TEXT;
ALTER TABLE inbox ADD COLUMN lease_token INTEGER;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_token INTEGER;
CREATE INDEX inbox_space_pending ON inbox (space_id, status, id);

-- Live processes: each holds a session advisory lock on lock_key and heartbeats; one whose lock is
-- free or whose heartbeat is stale loses its leases to any live process's reaper.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    lock_key     INTEGER NOT NULL UNIQUE,
    host         TEXT NOT NULL DEFAULT '',
    pid          INTEGER NOT NULL DEFAULT 0,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);

-- Fair turns across spaces and each space's model-call budget, shared by every claimer:
-- the space served longest ago goes next; tokens refill at budget_per_minute.
CREATE TABLE space_turns (
    space_id  TEXT PRIMARY KEY,
    served    INTEGER NOT NULL DEFAULT 0,
    tokens    REAL,
    tokens_at REAL NOT NULL DEFAULT 0
);

-- Verdicts shared across processes: one text flooding several processes costs one model call.
CREATE TABLE verdict_cache (
    key          TEXT PRIMARY KEY,
    verdict_json TEXT NOT NULL,
    created_at   REAL NOT NULL
);
