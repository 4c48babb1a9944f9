"""Admins configure: enable, upload, edit, shadow, roll back policies. Everything audited.

A policy that fails validation is never saved: the version in force keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bot.core.policies import PolicyError
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor
from bot.store import Store
from bot.store.records import Case, SpacePolicy


@dataclass(frozen=True, slots=True)
class AdminResult:
    ok: bool
    message: str
    policy: SpacePolicy | None = None


class PolicyAdmin:
    def __init__(self, store: Store, book: PolicyBook) -> None:
        self.store = store
        self.book = book

    async def _refuse(self, space_id: str, actor: Actor, action: str, target: str) -> AdminResult:
        await self.store.audit.record(
            space_id, actor.user_id, actor.role, action, target, allowed=False,
            detail={"reason": "not an admin"},
        )  # fmt: skip
        return AdminResult(False, "only server admins can change policies")

    async def upload(
        self, space_id: str, actor: Actor, yaml_text: str, *, mode: str | None = None, source: str = "upload"
    ) -> AdminResult:
        """Add or replace a policy from YAML. Errors come back as `file:line: field: message`."""
        if not actor.is_admin:
            return await self._refuse(space_id, actor, "policy.upload", source)
        try:
            policy = self.book.compile(yaml_text, source)
        except PolicyError as exc:
            await self.store.audit.record(
                space_id, actor.user_id, actor.role, "policy.upload", source, allowed=True,
                detail={"rejected": [str(p) for p in exc.problems][:10]},
            )  # fmt: skip
            return AdminResult(False, str(exc))
        existing = await self.store.policies.get(space_id, policy.id)
        if existing is not None and self._same_policy(existing, policy.spec_hash):
            return AdminResult(True, f"{policy.id} is unchanged (v{existing.version})", existing)
        saved = await self.store.policies.save_version(
            space_id, policy.id, yaml_text, policy.content_hash, actor.user_id,
            note=f"uploaded ({source})", **({"mode": mode} if mode else {}),
        )  # fmt: skip
        await self._audit(space_id, actor, "policy.upload", policy.id, {"version": saved.version})
        return AdminResult(True, f"{policy.id} saved as v{saved.version} ({saved.mode})", saved)

    def _same_policy(self, existing: SpacePolicy, spec_hash: str) -> bool:
        """Every field equal, not just the prompt: a new action or prefilter is a new version."""
        try:
            current = self.book.compile(existing.yaml_text, f"{existing.policy_id} v{existing.version}")
        except PolicyError:
            return False  # the stored text no longer loads: anything valid replaces it
        return current.spec_hash == spec_hash

    async def set_mode(self, space_id: str, actor: Actor, policy_id: str, mode: str) -> AdminResult:
        if not actor.is_admin:
            return await self._refuse(space_id, actor, "policy.mode", policy_id)
        if await self.store.policies.get(space_id, policy_id) is None:
            return AdminResult(False, f"no policy {policy_id!r} in this server")
        saved = await self.store.policies.set_mode(space_id, policy_id, mode, actor.user_id)
        await self._audit(space_id, actor, "policy.mode", policy_id, {"mode": mode})
        return AdminResult(True, f"{policy_id} is now {mode}", saved)

    async def rollback(self, space_id: str, actor: Actor, policy_id: str, version: int) -> AdminResult:
        if not actor.is_admin:
            return await self._refuse(space_id, actor, "policy.rollback", policy_id)
        try:
            saved = await self.store.policies.rollback(space_id, policy_id, version, actor.user_id)
        except (KeyError, LookupError, ValueError) as exc:
            return AdminResult(False, f"cannot roll back {policy_id} to v{version}: {exc}")
        await self._audit(space_id, actor, "policy.rollback", policy_id, {"to": version})
        return AdminResult(True, f"{policy_id} rolled back to v{version} (now v{saved.version})", saved)

    async def add_example(self, case: Case, actor: Actor) -> tuple[bool, str]:
        """A moderator's confirmed case becomes a labelled example of its policy (a new version)."""
        current = await self.store.policies.get(case.space_id, case.policy_id)
        if current is None or not case.excerpt:
            return False, "the policy or the message text is no longer available"
        data: dict[str, Any] = yaml.safe_load(current.yaml_text)
        examples = list(data.get("examples") or [])
        if any(e.get("text") == case.excerpt for e in examples if isinstance(e, dict)):
            return False, "this message is already an example of the policy"
        examples.append(
            {
                "text": case.excerpt,
                "label": "violation",
                "rule_ids": list(case.rule_ids),
                "why": f"Confirmed by a moderator (case {case.id}).",
            }
        )
        data["examples"] = examples
        data["version"] = int(data.get("version", 1)) + 1
        new_text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        try:
            policy = self.book.compile(new_text, f"{case.policy_id} + case {case.id}")
        except PolicyError as exc:
            return False, f"the example would break the policy: {exc}"
        await self.store.policies.save_version(
            case.space_id, case.policy_id, new_text, policy.content_hash, actor.user_id,
            note=f"example from case {case.id}",
        )  # fmt: skip
        self.book.invalidate(case.space_id)
        await self._audit(case.space_id, actor, "policy.add_example", case.policy_id, {"case": case.id})
        return True, f"added case #{case.id} to {case.policy_id}'s examples"

    async def _audit(
        self, space_id: str, actor: Actor, action: str, target: str, detail: dict[str, Any]
    ) -> None:
        self.book.invalidate(space_id)
        await self.store.audit.record(
            space_id, actor.user_id, actor.role, action, target, allowed=True, detail=detail
        )
