"""Policy commands that change what runs: enable, disable, upload, mode, scope, rollback.

Every change goes through `PolicyAdmin` (validation, versions, audit); a broken upload is
refused with `file:line: field: message` lines and the version in force keeps running.
"""

from __future__ import annotations

from bot.core.admin import AdminResult
from bot.core.commands.context import CommandContext
from bot.core.commands.model import Args, Command, Param, Reply
from bot.core.commands.policy_read import POLICY, scope_text

MODE = Param("mode", "mode", "live acts on flags, shadow only records them", choices=("live", "shadow"))


def _reply(result: AdminResult) -> Reply:
    if result.ok:
        lines: tuple[str, ...] = (f"scope: {scope_text(result.policy)}",) if result.policy else ()
        return Reply(True, result.message, lines)
    lines = tuple(result.message.splitlines())
    title = lines[0] if lines else "refused"
    return Reply.fail(result.code, title, *lines[1:])


async def enable(ctx: CommandContext, args: Args) -> Reply:
    policy_id, mode = args["policy"], args.get("mode", "live")
    admin = ctx.services.admin
    current = await ctx.store.policies.get(ctx.space_id, policy_id)
    if current is not None:
        # Keep the server's own version (it may have been edited); only switch it on.
        return _reply(await admin.set_mode(ctx.space_id, ctx.actor, policy_id, mode))
    found = await ctx.services.library.get(policy_id)
    if found is None:
        known = ", ".join(await ctx.services.library.all()) or "none"
        return Reply.fail("not_found", f"no policy {policy_id!r} in the library", f"library: {known}")
    source = f"library/{policy_id}.yaml"
    return _reply(await admin.upload(ctx.space_id, ctx.actor, found.text, mode=mode, source=source))


async def disable(ctx: CommandContext, args: Args) -> Reply:
    return _reply(await ctx.services.admin.set_mode(ctx.space_id, ctx.actor, args["policy"], "off"))


async def upload(ctx: CommandContext, args: Args) -> Reply:
    file = args["file"]
    return _reply(await ctx.services.admin.upload(ctx.space_id, ctx.actor, file.text, source=file.name))


async def mode(ctx: CommandContext, args: Args) -> Reply:
    return _reply(await ctx.services.admin.set_mode(ctx.space_id, ctx.actor, args["policy"], args["mode"]))


async def scope(ctx: CommandContext, args: Args) -> Reply:
    include, exclude = args.get("include", ()), args.get("exclude", ())
    result = await ctx.services.admin.set_scope(ctx.space_id, ctx.actor, args["policy"], include, exclude)
    return _reply(result)


async def rollback(ctx: CommandContext, args: Args) -> Reply:
    result = await ctx.services.admin.rollback(ctx.space_id, ctx.actor, args["policy"], args["version"])
    return _reply(result)


COMMANDS = (
    Command(
        ("policy", "enable"),
        "admin",
        "enable a library policy (live unless you say shadow)",
        enable,
        (POLICY, MODE),
    ),
    Command(
        ("policy", "disable"), "admin", "switch a policy off (its versions are kept)", disable, (POLICY,)
    ),
    Command(
        ("policy", "upload"),
        "admin",
        "add or replace a policy from a YAML file",
        upload,
        (Param("file", "file", "the policy's YAML file", required=True),),
    ),
    Command(
        ("policy", "mode"),
        "admin",
        "live, shadow or off",
        mode,
        (POLICY, Param("mode", "mode", "live, shadow or off", required=True)),
    ),
    Command(
        ("policy", "scope"),
        "admin",
        "limit a policy to channels, or keep it out of some",
        scope,
        (
            POLICY,
            Param("include", "channels", "only these channels (none: every channel)"),
            Param("exclude", "channels", "never these channels"),
        ),
    ),
    Command(
        ("policy", "rollback"),
        "admin",
        "make an earlier version current again",
        rollback,
        (POLICY, Param("version", "version", "the version to bring back", required=True)),
    ),
)
