"""The one permission gate: who may do what, in which space. Every refusal is audited.

Adapters report facts about a person (`Actor`); this module alone turns them into a role,
with the space's own settings (a moderator role or group given at setup), and refuses
anyone acting in a space that is not theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.ports import Actor, Capabilities
from bot.core.vocab import ROLE_RANK, Role
from bot.store import Store
from bot.store.records import Space

NEEDS = {"moderator": "only moderators can do this", "admin": "only server admins can do this"}


def role_of(actor: Actor, space: Space | None, caps: Capabilities) -> Role:
    """The actor's role in the space, from the platform's facts and the space's settings."""
    if actor.system or actor.is_admin:
        return "admin"
    if space is not None and space.admin_role_id and space.admin_role_id in actor.roles:
        return "admin"
    if space is not None and space.mod_role_id and space.mod_role_id in actor.roles:
        return "moderator"
    if actor.is_moderator and (caps.moderator_fact_always or space is None or not space.mod_role_id):
        return "moderator"
    return "member"


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    role: Role
    reason: str = ""  # for the person refused, in plain words


class Gate:
    def __init__(self, store: Store, capabilities: Mapping[str, Capabilities]) -> None:
        self._store = store
        self._caps = capabilities

    def capabilities(self, platform: str) -> Capabilities:
        return self._caps.get(platform, Capabilities())

    async def role(self, actor: Actor, space_id: str) -> Role:
        if actor.space_id != space_id and not actor.system:
            return "member"  # a moderator elsewhere is nobody here
        space = await self._store.spaces.get(space_id)
        return role_of(actor, space, self.capabilities(space.platform if space else ""))

    async def check(
        self, actor: Actor, space_id: str, needed: Role, action: str, target: str = ""
    ) -> Decision:
        """Allowed, or refused with a reason; a refusal is written to the space's audit log."""
        role = await self.role(actor, space_id)
        if ROLE_RANK[role] >= ROLE_RANK[needed]:
            return Decision(True, role)
        if actor.space_id != space_id and not actor.system:
            reason, why = "not in this space", "that case belongs to another server"
        else:
            reason, why = f"needs {needed}", NEEDS.get(needed, "you may not do this")
        await self._store.audit.record(
            space_id, actor.user_id, role, action, target, allowed=False, detail={"reason": reason}
        )
        return Decision(False, role, why)

    async def own_case(
        self, actor: Actor, author_id: str, role: Role, space_id: str, action: str, target: str
    ) -> bool:
        """A moderator deciding about their own message: refused (and audited) unless an admin."""
        if actor.user_id != author_id or role == "admin" or actor.system:
            return False
        await self._store.audit.record(
            space_id, actor.user_id, role, action, target, allowed=False, detail={"reason": "own message"}
        )
        return True
