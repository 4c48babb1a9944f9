"""Every command x member, moderator, admin: allowed or refused as the catalogue says, and
every refusal is in the audit log. A moderator of another server is nobody here."""

from __future__ import annotations

import pytest

from bot.core.commands.catalogue import CATALOGUE
from bot.core.commands.model import Command, Upload, Value
from bot.core.ports import Actor
from bot.core.vocab import ROLE_RANK, Role
from tests.conftest import POLICY_DIR
from tests.core_flow.conftest import Env, message

SPACE = "guild-1"
PEOPLE: dict[Role, Actor] = {
    "member": Actor("eve", "eve", space_id=SPACE),
    "moderator": Actor("mia", "mia", is_moderator=True, space_id=SPACE),
    "admin": Actor("root", "root", is_admin=True, space_id=SPACE),
}
SAMPLE: dict[str, Value] = {
    "policy": "game-cheating", "text": "selling aimbot", "mode": "live", "mod_channel": "mods",
    "version": "1", "id": "1", "status": "open", "days": "7", "limit": "5", "include": "general",
}  # fmt: skip


def sample_args(command: Command) -> dict[str, Value]:
    args: dict[str, Value] = {}
    for param in command.params:
        if param.kind == "file":
            args[param.name] = Upload("game-cheating.yaml", (POLICY_DIR / "game-cheating.yaml").read_text())
        elif param.required or param.name in ("mod_channel",):
            args[param.name] = SAMPLE[param.name]
    return args


@pytest.mark.parametrize("command", CATALOGUE, ids=lambda c: c.name.replace(" ", "-"))
async def test_each_role_is_allowed_or_refused_as_the_catalogue_says(env: Env, command: Command):
    core = await env.start()
    await env.install(SPACE, "game-cheating")
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    for role, actor in PEOPLE.items():
        before = len(await env.store.audit.list(SPACE, limit=1000))
        reply = await core.run_command(command.path, actor, SPACE, sample_args(command), "test")
        allowed = ROLE_RANK[role] >= ROLE_RANK[command.role]
        # Allowed: it ran and answered (not refused, not crashed); refused: audited below.
        assert reply.code == ("ok" if allowed else "refused"), (role, reply)
        if not allowed:
            entries = await env.store.audit.list(SPACE, limit=1000)
            assert len(entries) == before + 1
            refusal = entries[0]
            assert (refusal.actor_id, refusal.allowed) == (actor.user_id, False)
            assert refusal.action == "command." + ".".join(command.path)


async def test_a_moderator_of_another_server_cannot_act_here(env: Env):
    core = await env.start()
    await env.install(SPACE, "game-cheating")
    await core.submit(message(1, "selling aimbot"))
    await core.settle()
    case = (await env.store.cases.list(SPACE))[0]
    outsider = Actor("mia", "mia", is_moderator=True, is_admin=True, space_id="guild-2")
    outcome = await core.decide(case.id, outsider, "timeout")
    assert not outcome.ok and "another server" in outcome.message
    reply = await core.run_command(("policy", "disable"), outsider, SPACE, {"policy": "game-cheating"})
    assert reply.code == "refused"
    appeal_case = await core.reasoning(case.id, outsider)
    assert appeal_case.code == "refused"
    await core.settle()
    assert env.platform.timeouts == [] and (await env.store.cases.get(case.id)).status == "open"
    refusals = [e for e in await env.store.audit.list(SPACE) if not e.allowed]
    assert {e.action for e in refusals} >= {"case.timeout", "command.policy.disable", "case.show_reasoning"}
    assert all(e.detail["reason"] == "not in this space" for e in refusals)


async def test_the_moderator_role_given_at_setup_makes_a_moderator(env: Env):
    core = await env.start()
    admin = PEOPLE["admin"]
    await core.run_command(("setup",), admin, SPACE, {"mod_channel": "mods", "mod_role": "R-helpers"}, "test")
    helper = Actor("hal", "hal", space_id=SPACE, roles=frozenset({"R-helpers"}))
    assert await core.commands.role(helper, SPACE) == "moderator"
    assert (await core.run_command(("cases",), helper, SPACE, {})).ok
    stranger = Actor("sue", "sue", space_id=SPACE, roles=frozenset({"R-other"}))
    assert (await core.run_command(("cases",), stranger, SPACE, {})).code == "refused"
