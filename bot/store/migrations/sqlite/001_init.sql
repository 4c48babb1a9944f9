-- modbot schema, version 1. Every timestamp is a REAL unix time (seconds).
-- Text that may hold a member's words (text, context_json, excerpt, reasoning) is blanked by
-- Store.purge_expired_text() after the space's retention_days; purged_at records when.

CREATE TABLE spaces (
    id                TEXT PRIMARY KEY,
    platform          TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    mod_channel_id    TEXT NOT NULL DEFAULT '',
    mod_role_id       TEXT NOT NULL DEFAULT '',
    admin_role_id     TEXT NOT NULL DEFAULT '',
    notify_members    INTEGER NOT NULL DEFAULT 1,
    retention_days    INTEGER NOT NULL DEFAULT 30 CHECK (retention_days >= 0),
    auto_actions      INTEGER NOT NULL DEFAULT 0,
    budget_per_minute INTEGER NOT NULL DEFAULT 60 CHECK (budget_per_minute >= 0),
    created_at        REAL NOT NULL
);

CREATE TABLE space_policies (
    space_id     TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    yaml_text    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    mode         TEXT NOT NULL DEFAULT 'shadow' CHECK (mode IN ('live', 'shadow', 'off')),
    channels     TEXT NOT NULL DEFAULT '[]',
    updated_by   TEXT NOT NULL,
    updated_at   REAL NOT NULL,
    PRIMARY KEY (space_id, policy_id)
);

CREATE TABLE policy_versions (
    space_id     TEXT NOT NULL,
    policy_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    yaml_text    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   REAL NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (space_id, policy_id, version)
);

CREATE TABLE inbox (
    id             INTEGER PRIMARY KEY,
    dedupe_key     TEXT NOT NULL UNIQUE,
    space_id       TEXT NOT NULL,
    platform       TEXT NOT NULL,
    channel_id     TEXT NOT NULL,
    channel_name   TEXT NOT NULL DEFAULT '',
    message_id     TEXT NOT NULL,
    author_id      TEXT NOT NULL,
    author_name    TEXT NOT NULL DEFAULT '',
    text           TEXT NOT NULL,
    context_json   TEXT NOT NULL DEFAULT '[]',
    edited         INTEGER NOT NULL DEFAULT 0,
    sent_at        REAL NOT NULL DEFAULT 0,
    policy_id      TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    policy_hash    TEXT NOT NULL,
    match_reason   TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'leased', 'done', 'failed')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    not_before     REAL NOT NULL DEFAULT 0,
    last_error     TEXT,
    escalate       INTEGER NOT NULL DEFAULT 0,
    purged_at      REAL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX inbox_status ON inbox (status, id);
CREATE INDEX inbox_space_created ON inbox (space_id, created_at);

CREATE TABLE verdicts (
    id                     INTEGER PRIMARY KEY,
    job_id                 INTEGER REFERENCES inbox (id) ON DELETE SET NULL,
    space_id               TEXT NOT NULL,
    message_id             TEXT NOT NULL,
    policy_id              TEXT NOT NULL,
    policy_version         INTEGER NOT NULL,
    policy_hash            TEXT NOT NULL,
    tier                   INTEGER NOT NULL,
    model                  TEXT NOT NULL,
    violation              INTEGER NOT NULL,
    confidence             TEXT NOT NULL,
    rule_ids               TEXT NOT NULL DEFAULT '[]',
    category               TEXT,
    rationale              TEXT NOT NULL DEFAULT '',
    reasoning              TEXT NOT NULL DEFAULT '',
    source                 TEXT NOT NULL DEFAULT 'content',
    latency_ms             REAL NOT NULL DEFAULT 0,
    prompt_tokens          INTEGER NOT NULL DEFAULT 0,
    completion_tokens      INTEGER NOT NULL DEFAULT 0,
    previous_json          TEXT,
    escalation_failed_json TEXT,
    shadow                 INTEGER NOT NULL DEFAULT 0,
    purged_at              REAL,
    created_at             REAL NOT NULL
);
CREATE INDEX verdicts_message ON verdicts (space_id, message_id);
CREATE INDEX verdicts_policy ON verdicts (space_id, policy_id);

CREATE TABLE cases (
    id             INTEGER PRIMARY KEY,
    space_id       TEXT NOT NULL,
    platform       TEXT NOT NULL,
    channel_id     TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    author_id      TEXT NOT NULL,
    author_name    TEXT NOT NULL DEFAULT '',
    policy_id      TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    rule_ids       TEXT NOT NULL DEFAULT '[]',
    category       TEXT,
    rationale      TEXT NOT NULL DEFAULT '',
    confidence     TEXT NOT NULL,
    tier           INTEGER NOT NULL,
    excerpt        TEXT NOT NULL DEFAULT '',
    verdict_id     INTEGER REFERENCES verdicts (id) ON DELETE SET NULL,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN
                   ('open', 'removed', 'dismissed', 'timed_out', 'escalating', 'overturned', 'upheld')),
    flag_ref       TEXT,
    action_taken   TEXT,
    decided_by     TEXT,
    decided_at     REAL,
    purged_at      REAL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    UNIQUE (space_id, message_id, policy_id)
);
CREATE INDEX cases_space_status ON cases (space_id, status, id);
CREATE INDEX cases_policy ON cases (space_id, policy_id, status);

CREATE TABLE appeals (
    id                  INTEGER PRIMARY KEY,
    case_id             INTEGER NOT NULL UNIQUE REFERENCES cases (id) ON DELETE CASCADE,
    member_id           TEXT NOT NULL,
    statement           TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'upheld', 'overturned')),
    second_opinion_json TEXT,
    decided_by          TEXT,
    decided_at          REAL,
    created_at          REAL NOT NULL
);
CREATE INDEX appeals_member ON appeals (member_id, created_at);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    space_id    TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    allowed     INTEGER NOT NULL,
    detail_json TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL
);
CREATE INDEX audit_space ON audit (space_id, id);

CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    space_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    case_id      INTEGER REFERENCES cases (id) ON DELETE SET NULL,
    payload_json TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   REAL NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, not_before, id);
