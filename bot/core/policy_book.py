"""Which policies each space runs, compiled once and shared between spaces.

A thousand servers that enable the same library policy share one compiled Policy (keyed by
the YAML text), so memory grows with distinct policies, not with spaces.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.policies import Policy, PolicyError
from bot.store import Store
from bot.store.records import SpacePolicy

log = logging.getLogger(__name__)

Compile = Callable[[str, str], Policy]  # (yaml_text, source) -> Policy; raises PolicyError


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    policy: Policy
    mode: str  # live | shadow
    channels: frozenset[str]  # empty: every channel
    version: int
    excluded: frozenset[str] = frozenset()  # never these channels

    def applies_to(self, channel_id: str) -> bool:
        if channel_id in self.excluded:
            return False
        return not self.channels or channel_id in self.channels


class PolicyBook:
    def __init__(self, store: Store, compile_policy: Compile) -> None:
        self._store = store
        self._compile = compile_policy
        self._by_yaml: dict[str, Policy] = {}
        self._spaces: dict[str, list[ActivePolicy]] = {}

    async def compile(self, yaml_text: str, source: str) -> Policy:
        """The compiled policy; a new text is compiled in a worker thread (parsing, token counting
        and regex compilation of a large upload take long enough to stall the event loop)."""
        key = hashlib.sha256(yaml_text.encode("utf-8", "surrogatepass")).hexdigest()
        policy = self._by_yaml.get(key)
        if policy is None:
            policy = await asyncio.to_thread(self._compile, yaml_text, source)
            self._by_yaml[key] = policy
        return policy

    def invalidate(self, space_id: str) -> None:
        """Read the space's policies again on next use ("": every space's)."""
        if space_id:
            self._spaces.pop(space_id, None)
        else:
            self._spaces.clear()

    async def active(self, space_id: str) -> list[ActivePolicy]:
        cached = self._spaces.get(space_id)
        if cached is not None:
            return cached
        active = []
        for row in await self._store.policies.enabled(space_id):
            try:
                active.append(await self._activate(row))
            except PolicyError as exc:
                # Stored versions were valid when saved; a stricter limit since then must not
                # stop the space's other policies. The admin sees why in the log.
                log.error("policy %s of space %s no longer loads: %s", row.policy_id, space_id, exc)
        self._spaces[space_id] = active
        return active

    async def _activate(self, row: SpacePolicy) -> ActivePolicy:
        policy = await self.compile(row.yaml_text, f"{row.space_id}/{row.policy_id} v{row.version}")
        return ActivePolicy(
            policy, row.mode, frozenset(row.channels), row.version, frozenset(row.excluded_channels)
        )

    async def for_job(self, space_id: str, policy_id: str) -> ActivePolicy | None:
        """The policy a queued job was selected by, as the space runs it now (edits included)."""
        for active in await self.active(space_id):
            if active.policy.id == policy_id:
                return active
        return None

    @property
    def distinct_policies(self) -> int:
        return len(self._by_yaml)
