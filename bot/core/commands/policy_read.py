"""Policy commands that change nothing: list, show, edit (returns the YAML), history, test."""

from __future__ import annotations

from bot.core.classifier.base import ClassifyRequest
from bot.core.commands.context import CommandContext
from bot.core.commands.model import Args, Command, Param, Reply, ReplyFile, Table
from bot.core.messages import Verdict
from bot.core.policies import Policy, PolicyError
from bot.store.records import SpacePolicy

WEEK_S = 7 * 86400
POLICY = Param("policy", "policy", "the policy id", required=True)


def scope_text(row: SpacePolicy) -> str:
    where = ", ".join(f"<#{c}>" for c in row.channels) or "every channel"
    if row.excluded_channels:
        where += " except " + ", ".join(f"<#{c}>" for c in row.excluded_channels)
    return where


async def policy_list(ctx: CommandContext, _args: Args) -> Reply:
    library = await ctx.services.library.all()
    rows_by_id = {row.policy_id: row for row in await ctx.store.policies.all_for(ctx.space_id)}
    figures = await ctx.store.stats.per_policy(ctx.space_id, ctx.store.now() - WEEK_S)
    rows = []
    for pid in sorted(set(library) | set(rows_by_id)):
        row = rows_by_id.get(pid)
        title = library[pid].policy.spec.title if pid in library else ""
        flags = figures[pid].flags + figures[pid].shadow_flags if pid in figures else 0
        if row is None:
            rows.append((pid, title, "library", "-", "not enabled", "-", "-"))
        else:
            source = "library" if pid in library else "uploaded"
            rows.append((pid, title, source, f"v{row.version}", row.mode, scope_text(row), str(flags)))
    if not rows:
        return Reply(True, "no policies: the library is empty and none was uploaded")
    table = Table(("policy", "title", "from", "version", "mode", "scope", "flags 7d"), tuple(rows))
    return Reply(True, "policies", ("enable one with `policy enable <id>`",), table=table)


async def _current(ctx: CommandContext, policy_id: str) -> tuple[SpacePolicy | None, Reply | None]:
    row = await ctx.store.policies.get(ctx.space_id, policy_id)
    if row is None:
        hint = "`policy list` shows the library; `policy enable` adds one"
        return None, Reply.fail("not_found", f"no policy {policy_id!r} in this server", hint)
    return row, None


async def _compile(ctx: CommandContext, row: SpacePolicy) -> Policy | None:
    try:
        return await ctx.services.book.compile(row.yaml_text, f"{row.policy_id} v{row.version}")
    except PolicyError:
        return None


async def policy_show(ctx: CommandContext, args: Args) -> Reply:
    row, missing = await _current(ctx, args["policy"])
    if row is None:
        return missing or Reply.fail("not_found", "no such policy")
    policy = await _compile(ctx, row)
    fields = [
        ("mode", row.mode),
        ("version", f"v{row.version}"),
        ("scope", scope_text(row)),
        ("changed by", f"<@{row.updated_by}>" if row.updated_by != "modbot" else "modbot"),
    ]
    lines: list[str] = []
    if policy is not None:
        spec = policy.spec
        fields += [("severity", spec.severity), ("action", spec.action.kind)]
        lines += [f"{r.id}: {r.text}" for r in spec.rules]
        lines += [f"allowed {r.id}: {r.text}" for r in spec.allowed]
        title = f"{row.policy_id}: {spec.title}"
    else:
        title, lines = row.policy_id, ["this version no longer loads; upload a fixed one"]
    return Reply(True, title, tuple(lines), tuple(fields))


async def policy_edit(ctx: CommandContext, args: Args) -> Reply:
    row, missing = await _current(ctx, args["policy"])
    if row is None:
        return missing or Reply.fail("not_found", "no such policy")
    hint = "edit it and send it back with `policy upload`; the current version runs until then"
    return Reply(
        True,
        f"{row.policy_id} v{row.version}",
        (hint,),
        file=ReplyFile(f"{row.policy_id}.yaml", row.yaml_text),
    )


async def policy_history(ctx: CommandContext, args: Args) -> Reply:
    versions = await ctx.store.policies.history(ctx.space_id, args["policy"])
    if not versions:
        return Reply.fail("not_found", f"no policy {args['policy']!r} in this server")
    rows = tuple(
        (f"v{v.version}", v.created_by, _when(ctx, v.created_at), v.note or "-") for v in versions[:50]
    )
    return Reply(
        True,
        f"{args['policy']}: {len(versions)} version(s)",
        ("roll back with `policy rollback`",),
        table=Table(("version", "by", "when", "note"), rows),
    )


def _when(ctx: CommandContext, at: float) -> str:
    ago = max(0.0, ctx.store.now() - at)
    return (
        f"{ago / 86400:.0f} d ago"
        if ago >= 86400
        else f"{ago / 3600:.0f} h ago"
        if ago >= 3600
        else "just now"
    )


async def policy_test(ctx: CommandContext, args: Args) -> Reply:
    """The policy's own examples, or the given text, through the model now."""
    row = await ctx.store.policies.get(ctx.space_id, args["policy"])
    policy = await _compile(ctx, row) if row else None
    if policy is None:
        found = await ctx.services.library.get(args["policy"])
        policy = found.policy if found else None
    if policy is None:
        return Reply.fail("not_found", f"no policy {args['policy']!r} here or in the library")
    text = args.get("text")
    samples = [(text, None)] if text else [(e.text, e.label == "violation") for e in policy.spec.examples]
    if not samples:
        return Reply.fail("invalid", f"{policy.id} has no examples; give a text to test")
    rows, passed, answered = [], 0, 0
    for sample, expected in samples:
        result = await ctx.services.classifier.classify(policy, ClassifyRequest(sample))
        if not isinstance(result, Verdict):
            rows.append(("no answer", "-", "-", f"{result.reason}: {result.detail}"[:200], sample[:80]))
            continue
        answered += 1
        got = "violation" if result.violation else "allowed"
        mark = "" if expected is None else "pass" if result.violation == expected else "FAIL"
        passed += mark == "pass"
        rows.append(
            (
                f"{mark} {got}".strip(),
                ",".join(result.rule_ids) or "-",
                result.confidence,
                result.rationale[:200],
                sample[:80],
            )
        )
    if answered == 0:
        return Reply(
            False,
            f"{policy.id}: the model did not answer",
            code="unavailable",
            table=Table(("verdict", "rules", "confidence", "rationale", "text"), tuple(rows)),
        )
    title = f"{policy.id}: {passed}/{len(samples)} examples pass" if text is None else f"{policy.id}: tested"
    return Reply(
        True, title, table=Table(("verdict", "rules", "confidence", "rationale", "text"), tuple(rows))
    )


COMMANDS = (
    Command(("policy", "list"), "moderator", "the library and this server's policies", policy_list),
    Command(
        ("policy", "show"), "moderator", "a policy's rules, mode, scope and version", policy_show, (POLICY,)
    ),
    Command(
        ("policy", "edit"), "admin", "the policy's YAML, to edit and upload again", policy_edit, (POLICY,)
    ),
    Command(("policy", "history"), "moderator", "every saved version of a policy", policy_history, (POLICY,)),
    Command(
        ("policy", "test"),
        "moderator",
        "run the policy's examples (or a text) through the model now",
        policy_test,
        (POLICY, Param("text", "text", "a text to test instead of the examples")),
        slow=True,
    ),
)
