"""Retention: after a space's ``retention_days``, blank what members wrote, keep the rows.

Statistics, decisions and the audit trail stay; message text, context, case excerpts, the model's
reasoning (which quotes the message) and the learned screen's hashed features of it go. Jobs still
pending or leased are never touched: they need their text. A space without a settings row uses the
default of 30 days.
"""

from __future__ import annotations

from bot.store.dialect import Db

DAY = 86400.0
DEFAULT_RETENTION_DAYS = 30

_EXPIRED = (
    "purged_at IS NULL AND created_at < ? - {day} * COALESCE("
    "(SELECT retention_days FROM spaces WHERE spaces.id = {table}.space_id), {default})"
)
_SCRUB_JSON = (
    "json_replace({column}, '$.reasoning', '', '$.raw_excerpt', '', "
    "'$.previous.reasoning', '', '$.previous.raw_excerpt', '')"
)

# Postgres: jsonb_set without create_missing only replaces keys that exist, as json_replace does.
_PG_SCRUB_JSON = (
    "CASE WHEN {column} IS NULL THEN NULL ELSE ("
    "SELECT CASE WHEN jsonb_typeof(j -> 'previous') = 'object' THEN "
    "jsonb_set(jsonb_set(j, '{{previous,reasoning}}', to_jsonb(''::text), false), "
    "'{{previous,raw_excerpt}}', to_jsonb(''::text), false) ELSE j END "
    "FROM (SELECT jsonb_set(jsonb_set({column}::jsonb, '{{reasoning}}', to_jsonb(''::text), false), "
    "'{{raw_excerpt}}', to_jsonb(''::text), false) AS j) AS scrubbed)::text END"
)


def _statements(dialect: str) -> tuple[tuple[str, str, str], ...]:
    scrub = _PG_SCRUB_JSON if dialect == "postgres" else _SCRUB_JSON
    return (
        (
            "inbox",
            "text = '', context_json = '[]'",
            " AND status IN ('done', 'failed')",
        ),
        (
            "verdicts",
            "reasoning = '', "
            f"previous_json = {scrub.format(column='previous_json')}, "
            f"escalation_failed_json = {scrub.format(column='escalation_failed_json')}",
            "",
        ),
        ("cases", "excerpt = ''", ""),
    )


async def purge_expired_text(db: Db) -> int:
    """Blank expired text in inbox (finished jobs), verdicts and cases; the number of rows changed."""
    now = db.now()
    changed = 0
    async with db.transaction():
        for table, assignments, extra in _statements(db.dialect):
            where = _EXPIRED.format(day=DAY, table=table, default=DEFAULT_RETENTION_DAYS) + extra
            changed += await db.execute(
                f"UPDATE {table} SET {assignments}, purged_at = ? WHERE {where}",  # noqa: S608
                (now, now),
            )
        # The screen's labels are hashed n-grams of a message: they would still tell whether it
        # held a phrase, so they go with the text. Its random checks are kept as long.
        for table in ("screen_labels", "screen_checks"):
            where = _EXPIRED.format(day=DAY, table=table, default=DEFAULT_RETENTION_DAYS)
            where = where.removeprefix("purged_at IS NULL AND ")
            changed += await db.execute(f"DELETE FROM {table} WHERE {where}", (now,))  # noqa: S608
    return changed
