-- The learned screen (bot/core/screen): per-policy models, the labels they learn from, and the
-- random checks that estimate their recall. No member text is kept here: labels hold hashed
-- n-gram features only (uint16 indices), so retention's text purge has nothing to blank.

CREATE TABLE screen_models (
    policy_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    weights     BLOB NOT NULL,          -- float32 coefficients, little-endian (not a pickle)
    meta_json   TEXT NOT NULL,          -- intercept, threshold, held-back recall, label counts
    created_at  REAL NOT NULL,
    PRIMARY KEY (policy_id, version)
);

CREATE TABLE screen_labels (
    id          INTEGER PRIMARY KEY,
    policy_id   TEXT NOT NULL,
    space_id    TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    features    BLOB NOT NULL,          -- uint16 hashed n-gram indices
    label       INTEGER NOT NULL CHECK (label IN (0, 1)),
    source      TEXT NOT NULL,          -- tier1 | tier2 | moderator
    rank        INTEGER NOT NULL,       -- a later label of higher or equal rank replaces an earlier one
    created_at  REAL NOT NULL,
    UNIQUE (policy_id, space_id, message_id)
);
CREATE INDEX screen_labels_policy ON screen_labels (policy_id, id);

CREATE TABLE screen_checks (
    id          INTEGER PRIMARY KEY,
    policy_id   TEXT NOT NULL,
    space_id    TEXT NOT NULL,
    keyword     INTEGER NOT NULL,       -- the keyword prefilter alone would have selected it
    screened    INTEGER NOT NULL,       -- the learned screen's score was at or above its threshold
    violation   INTEGER NOT NULL,       -- the model's verdict
    created_at  REAL NOT NULL
);
CREATE INDEX screen_checks_policy ON screen_checks (policy_id, space_id);

CREATE TABLE screen_sync (
    name        TEXT PRIMARY KEY,       -- how far moderators' decisions have been learned
    value       REAL NOT NULL
);
