"""Moderators' commands: check a text now, list and open cases, figures, the audit log."""

from __future__ import annotations

import asyncio

from bot.core.classifier.base import ClassifyRequest
from bot.core.commands.context import CommandContext
from bot.core.commands.model import Args, Command, Param, Reply, Table
from bot.core.evaluate import percentile
from bot.core.messages import Result, Verdict

DAY_S = 86400


async def check(ctx: CommandContext, args: Args) -> Reply:
    """Every enabled policy against a text, now (the prefilter is skipped: a moderator asked)."""
    active = await ctx.services.book.active(ctx.space_id)
    if not active:
        return Reply.fail("invalid", "no policy is enabled here", "`policy enable <id>` first")
    request = ClassifyRequest(args["text"])
    results: list[Result] = await asyncio.gather(
        *(ctx.services.classifier.classify(a.policy, request) for a in active)
    )
    rows: list[tuple[str, ...]] = []
    hits = 0
    for item, result in zip(active, results, strict=True):
        if isinstance(result, Verdict):
            hits += result.violation
            verdict = "VIOLATION" if result.violation else "allowed"
            rows.append(
                (
                    item.policy.id,
                    verdict,
                    ",".join(result.rule_ids) or "-",
                    result.confidence,
                    result.rationale[:200],
                )
            )
        else:
            rows.append((item.policy.id, "no answer", "-", "-", f"{result.reason}: {result.detail}"[:200]))
    title = (
        f"{hits} of {len(active)} policies say this breaks a rule" if hits else "no policy flags this text"
    )
    return Reply(True, title, table=Table(("policy", "verdict", "rules", "confidence", "why"), tuple(rows)))


async def cases(ctx: CommandContext, args: Args) -> Reply:
    found = await ctx.store.cases.list(ctx.space_id, args.get("status"), limit=25)
    if not found:
        return Reply(True, "no cases" + (f" with status {args['status']}" if "status" in args else ""))
    rows = tuple(
        (
            f"#{c.id}",
            c.status + (" (shadow)" if c.shadow else ""),
            c.policy_id,
            ",".join(c.rule_ids) or "-",
            c.author_name or c.author_id,
            c.excerpt[:60],
        )
        for c in found
    )
    return Reply(
        True,
        f"{len(found)} case(s), newest first",
        table=Table(("case", "status", "policy", "rules", "author", "excerpt"), rows),
    )


async def case(ctx: CommandContext, args: Args) -> Reply:
    found = await ctx.store.cases.get(args["id"])
    if found is None or found.space_id != ctx.space_id:
        return Reply.fail("not_found", f"no case #{args['id']} in this server")
    view = await ctx.services.cases.views.view(found)
    fields = [
        ("status", view.status_label + (" (shadow)" if view.shadow else "")),
        ("policy", f"{view.policy_title} ({view.policy_id} {view.rules})"),
        ("confidence", f"{view.confidence}, tier {view.tier}"),
        ("author", f"<@{view.author_id}>"),
        ("channel", f"<#{view.channel_id}>"),
        ("rationale", view.rationale or "-"),
    ]
    if view.decided_by:
        fields.append(("decided by", f"<@{view.decided_by}>"))
    if view.appeal_statement:
        fields.append(("appeal", f"#{view.appeal_id} ({view.appeal_status}): {view.appeal_statement}"))
    if view.second_opinion:
        fields.append(("second opinion", view.second_opinion))
    reasoning = await ctx.services.cases.views.reasoning(found.id, ctx.actor)
    lines = (f"“{view.excerpt}”", *reasoning.lines)
    return Reply(True, f"case #{found.id}", lines, tuple(fields))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


async def stats(ctx: CommandContext, args: Args) -> Reply:
    days = int(args.get("days", 7))
    await ctx.services.flush_counts()
    since = ctx.store.now() - days * DAY_S
    seen = await ctx.store.stats.messages_seen(ctx.space_id, since)
    figures = await ctx.store.stats.per_policy(ctx.space_id, since)
    wanted = args.get("policy")
    rows = []
    for pid, f in sorted(figures.items()):
        if wanted and pid != wanted:
            continue
        p50 = f"{percentile(f.latencies_ms, 50) / 1000:.1f}s" if f.latencies_ms else "-"
        p95 = f"{percentile(f.latencies_ms, 95) / 1000:.1f}s" if f.latencies_ms else "-"
        rows.append(
            (
                pid,
                str(f.candidates),
                str(f.model_calls),
                str(f.cache_hits),
                str(f.flags) + (f"+{f.shadow_flags} shadow" if f.shadow_flags else ""),
                str(f.confirmed),
                str(f.dismissed),
                _pct(f.precision),
                f"{f.appeals_upheld}/{f.appeals_overturned}",
                f"{p50}/{p95}",
            )
        )
    headers = (
        "policy",
        "candidates",
        "model calls",
        "cache hits",
        "flags",
        "confirmed",
        "dismissed",
        "precision",
        "appeals upheld/overturned",
        "latency p50/p95",
    )
    title = f"last {days} day(s): {seen} message(s) seen"
    screens = ctx.services.screens
    lines = [(await screens.report(r[0])).line() for r in rows] if screens is not None else []
    if not rows:
        return Reply(True, title, ("nothing was checked in this period",))
    return Reply(True, title, tuple(lines), table=Table(headers, tuple(rows)))


async def audit(ctx: CommandContext, args: Args) -> Reply:
    entries = await ctx.store.audit.list(ctx.space_id, limit=int(args.get("limit", 20)))
    rows = tuple(
        (f"<@{e.actor_id}>", e.actor_role, e.action, e.target, "allowed" if e.allowed else "REFUSED")
        for e in entries
    )
    return Reply(
        True,
        f"the last {len(rows)} audit entries, newest first",
        table=Table(("who", "role", "action", "target", "result"), rows),
    )


COMMANDS = (
    Command(
        ("check",),
        "moderator",
        "check a text against every enabled policy now",
        check,
        (Param("text", "text", "the text to check", required=True),),
        slow=True,
    ),
    Command(
        ("cases",),
        "moderator",
        "recent cases, optionally by status",
        cases,
        (Param("status", "status", "open, removed, dismissed, ..."),),
    ),
    Command(
        ("case",),
        "moderator",
        "one case, with the model's reasoning",
        case,
        (Param("id", "case", "the case number", required=True),),
    ),
    Command(
        ("stats",),
        "moderator",
        "per policy: checks, calls, flags, precision, appeals, latency",
        stats,
        (Param("policy", "policy", "only this policy"), Param("days", "days", "how many days (7)")),
    ),
    Command(
        ("audit",),
        "moderator",
        "who did what, refusals included",
        audit,
        (Param("limit", "limit", "how many entries (20)"),),
    ),
)
