"""The narrow protocol a platform adapter implements, and who is acting.

The core never knows whether a flag card is a Discord embed with buttons, Slack blocks, or a
line in a terminal: it hands over a view (`bot.core.views`) and gets back an opaque reference.
Adapters report *facts* about a person (platform permissions, roles); the core alone turns
them into a role (`bot.core.permissions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.views import FlagView, MemberNotice


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, in which space, and what their platform says about them.

    `is_admin` / `is_moderator` are platform facts (Discord: Manage Server / Manage Messages;
    Slack: workspace admin or owner / member of the mod channel); `roles` are the platform's
    role or user-group ids. The core decides the role from these and the space's settings.
    """

    user_id: str
    name: str = ""
    is_moderator: bool = False
    is_admin: bool = False
    space_id: str = ""
    roles: frozenset[str] = frozenset()
    system: bool = False  # modbot itself (automatic actions, library installs)

    @classmethod
    def bot(cls, space_id: str) -> Actor:
        return cls("modbot", "modbot", is_moderator=True, is_admin=True, space_id=space_id, system=True)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can do, so the core offers only buttons that work there."""

    can_timeout: bool = True
    can_delete: bool = True  # Slack: only with an admin user token
    # Discord: Manage Messages always makes a moderator. Slack: membership of the mod channel
    # counts only while no moderator group is set up.
    moderator_fact_always: bool = True


@dataclass(frozen=True, slots=True)
class PlatformResult:
    ok: bool
    ref: str = ""  # e.g. the id of the posted card
    error: str = ""
    retryable: bool = True


class Platform(Protocol):
    """What the core asks of Discord, Slack or the console. Every call may fail; say so."""

    name: str
    capabilities: Capabilities

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult: ...

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult: ...

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult: ...

    async def timeout_member(
        self, space_id: str, user_id: str, minutes: int, reason: str
    ) -> PlatformResult: ...

    async def dm(self, notice: MemberNotice) -> PlatformResult: ...

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        """What the bot lacks to work in this space (permissions, scopes), in plain words."""
        ...


class ShardLocks(Protocol):
    """Which Discord shards this process may connect, shared by every process of one bot.

    A shard is connected by the one process that holds its lock; a process that dies loses its
    locks with it (Postgres drops a session's advisory locks), so another can take its shards.
    Implemented by the store (`bot.store.shard_locks`); the adapter sees it through the core.
    """

    async def try_take(self, shard_id: int) -> bool:
        """Lock the shard for this process if no other holds it; True if this process holds it."""
        ...

    async def held(self) -> set[int]:
        """The shards this process really holds now (none once its lock session is gone)."""
        ...

    async def peers(self) -> int:
        """Processes sharing the shards now, this one included."""
        ...

    async def identify_turn(self, bucket: int, spacing_s: float) -> None:
        """Wait until this process may IDENTIFY in `bucket`; the turn is kept `spacing_s` (Discord
        allows one IDENTIFY per bucket per 5 s across all of a bot's processes)."""
        ...

    async def release_all(self) -> None:
        """Free every shard (a clean stop): other processes take them over."""
        ...
