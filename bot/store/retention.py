"""Retention: after a space's ``retention_days``, blank what members wrote, keep the rows.

Statistics, decisions and the audit trail stay; message text, context, case excerpts, the model's
reasoning (which quotes the message) and the learned screen's hashed features of it go. Jobs still
pending or leased are never touched: they need their text. A space without a settings row uses the
default of 30 days.
"""

from __future__ import annotations

from bot.store.db import Database

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

_STATEMENTS = (
    (
        "inbox",
        "text = '', context_json = '[]'",
        " AND status IN ('done', 'failed')",
    ),
    (
        "verdicts",
        "reasoning = '', "
        f"previous_json = {_SCRUB_JSON.format(column='previous_json')}, "
        f"escalation_failed_json = {_SCRUB_JSON.format(column='escalation_failed_json')}",
        "",
    ),
    ("cases", "excerpt = ''", ""),
)


async def purge_expired_text(db: Database) -> int:
    """Blank expired text in inbox (finished jobs), verdicts and cases; the number of rows changed."""
    now = db.now()
    changed = 0
    async with db.transaction():
        for table, assignments, extra in _STATEMENTS:
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
