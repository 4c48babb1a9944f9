"""`setup`: the space's mod channel and who moderates; `setup show`: what is set and missing."""

from __future__ import annotations

from bot.core.commands.context import CommandContext
from bot.core.commands.model import Args, Command, Param, Reply

RECENT_S = 24 * 3600


async def setup(ctx: CommandContext, args: Args) -> Reply:
    channel, role = args.get("mod_channel"), args.get("mod_role")
    if channel is None and role is None:
        return await show(ctx, args)
    store = ctx.store
    settings: dict[str, str] = {}
    if channel is not None:
        settings["mod_channel_id"] = channel
    if role is not None:
        settings["mod_role_id"] = role
    space = await store.spaces.get(ctx.space_id)
    platform = space.platform if space else ctx.platform
    if not platform:
        return Reply.fail("invalid", "setup: this space is new; say which platform it is on")
    async with store.transaction():
        await store.spaces.upsert(ctx.space_id, platform, **settings)
        await store.audit.record(
            ctx.space_id, ctx.actor.user_id, ctx.role, "setup", str(channel or ""), True, detail=settings
        )
    await store.announce_change(ctx.space_id)
    shown = await show(ctx, args)
    problems = await _platform_check(ctx, str(channel or ""))
    lines = (*shown.lines, *(f"⚠ {p}" for p in problems))
    return Reply(True, "setup saved", lines, shown.fields)


async def _platform_check(ctx: CommandContext, channel: str) -> list[str]:
    space = await ctx.store.spaces.get(ctx.space_id)
    platform = ctx.services.platforms.get(space.platform if space else "")
    if platform is None or not channel:
        return []
    return await platform.check_setup(ctx.space_id, channel)


async def show(ctx: CommandContext, _args: Args) -> Reply:
    store = ctx.store
    space = await store.spaces.get(ctx.space_id)
    policies = await store.policies.all_for(ctx.space_id)
    enabled = [p for p in policies if p.mode != "off"]
    fields = (
        ("mod channel", f"<#{space.mod_channel_id}>" if space and space.mod_channel_id else "not set"),
        ("moderator role", space.mod_role_id if space and space.mod_role_id else "platform default"),
        ("policies", ", ".join(f"{p.policy_id} ({p.mode})" for p in enabled) or "none enabled"),
        ("larger model", "configured" if ctx.services.classifier.tier2 is not None else "not configured"),
    )
    missing = []
    if not space or not space.mod_channel_id:
        missing.append("missing: a mod channel (`setup mod_channel:#channel`) — flags have nowhere to go")
    if not enabled:
        missing.append("missing: an enabled policy (`policy list`, then `policy enable <id>`)")
    since = store.now() - RECENT_S
    for entry in await store.audit.list(ctx.space_id, limit=200):
        if entry.created_at < since:
            break
        if entry.action == "platform.refused":
            missing.append(f"⚠ {entry.detail.get('error', entry.target)}")
    title = "setup is complete" if not missing else "setup is incomplete"
    return Reply(True, title, tuple(dict.fromkeys(missing)), fields)


COMMANDS = (
    Command(
        ("setup",),
        "admin",
        "set the mod channel and the moderator role (no arguments: show the setup)",
        setup,
        (
            Param("mod_channel", "channel", "the channel where flags are posted"),
            Param("mod_role", "role", "who moderates (default: whoever can manage messages)"),
        ),
    ),
    Command(("setup", "show"), "moderator", "the current setup and what is missing", show),
)
