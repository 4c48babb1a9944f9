-- The command set: shadow cards, channel exclusions, and figures for `stats`.

-- A shadow-mode verdict opens a case too, so moderators see what the policy would flag; its
-- card says so and offers no punishment.
ALTER TABLE cases ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;

-- `policy scope`: channels a policy never looks at (channels = the only ones it looks at).
ALTER TABLE space_policies ADD COLUMN excluded_channels TEXT NOT NULL DEFAULT '[]';

-- A verdict served from the cache cost no model call; `stats` counts calls and hits apart.
ALTER TABLE verdicts ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;

-- Messages seen per space and day (every submitted message, candidate or not).
CREATE TABLE message_counts (
    space_id TEXT NOT NULL,
    day      INTEGER NOT NULL,  -- unix time // 86400
    messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (space_id, day)
);
