"""Which policies each space runs, compiled once and shared between spaces.

A thousand servers that enable the same library policy share one compiled Policy (keyed by
the YAML text), so memory grows with distinct policies, not with spaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.policies import Policy
from bot.store import Store
from bot.store.records import SpacePolicy

Compile = Callable[[str, str], Policy]  # (yaml_text, source) -> Policy; raises PolicyError


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    policy: Policy
    mode: str  # live | shadow
    channels: frozenset[str]  # empty: every channel
    version: int

    def applies_to(self, channel_id: str) -> bool:
        return not self.channels or channel_id in self.channels


class PolicyBook:
    def __init__(self, store: Store, compile_policy: Compile) -> None:
        self._store = store
        self._compile = compile_policy
        self._by_yaml: dict[str, Policy] = {}
        self._by_hash: dict[str, Policy] = {}
        self._spaces: dict[str, list[ActivePolicy]] = {}

    def compile(self, yaml_text: str, source: str) -> Policy:
        key = hashlib.sha256(yaml_text.encode()).hexdigest()
        policy = self._by_yaml.get(key)
        if policy is None:
            policy = self._compile(yaml_text, source)
            self._by_yaml[key] = policy
            self._by_hash[policy.content_hash] = policy
        return policy

    def invalidate(self, space_id: str) -> None:
        self._spaces.pop(space_id, None)

    async def active(self, space_id: str) -> list[ActivePolicy]:
        cached = self._spaces.get(space_id)
        if cached is not None:
            return cached
        rows = await self._store.policies.enabled(space_id)
        active = [self._activate(row) for row in rows]
        self._spaces[space_id] = active
        return active

    def _activate(self, row: SpacePolicy) -> ActivePolicy:
        policy = self.compile(row.yaml_text, f"{row.space_id}/{row.policy_id} v{row.version}")
        return ActivePolicy(policy, row.mode, frozenset(row.channels), row.version)

    async def for_job(self, space_id: str, policy_id: str) -> ActivePolicy | None:
        """The policy a queued job was selected by, as the space runs it now (edits included)."""
        for active in await self.active(space_id):
            if active.policy.id == policy_id:
                return active
        return None

    @property
    def distinct_policies(self) -> int:
        return len(self._by_yaml)
