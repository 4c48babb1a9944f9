"""Admins configure: enable, upload, edit, shadow, roll back policies. Everything audited.

A policy that fails validation is never saved: the version in force keeps running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from bot.core.permissions import Gate
from bot.core.policies import PolicyError
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor
from bot.core.vocab import POLICY_MODES, pick
from bot.store import Store
from bot.store.records import Case, SpacePolicy

Code = Literal["ok", "refused", "invalid", "not_found"]


@dataclass(frozen=True, slots=True)
class AdminResult:
    ok: bool
    message: str
    policy: SpacePolicy | None = None
    code: Code = "ok"


class PolicyAdmin:
    def __init__(self, store: Store, book: PolicyBook, gate: Gate) -> None:
        self.store = store
        self.book = book
        self.gate = gate

    async def _refused(self, space_id: str, actor: Actor, action: str, target: str) -> AdminResult | None:
        decision = await self.gate.check(actor, space_id, "admin", action, target)
        if decision.allowed:
            return None
        return AdminResult(False, "only server admins can change policies", code="refused")

    async def _role(self, space_id: str, actor: Actor) -> str:
        return await self.gate.role(actor, space_id)

    async def upload(
        self, space_id: str, actor: Actor, yaml_text: str, *, mode: str | None = None, source: str = "upload"
    ) -> AdminResult:
        """Add or replace a policy from YAML. Errors come back as `file:line: field: message`."""
        if refused := await self._refused(space_id, actor, "policy.upload", source):
            return refused
        try:
            policy = await self.book.compile(yaml_text, source)
        except PolicyError as exc:
            await self.store.audit.record(
                space_id, actor.user_id, await self._role(space_id, actor), "policy.upload", source,
                allowed=True, detail={"rejected": [str(p) for p in exc.problems][:10]},
            )  # fmt: skip
            return AdminResult(False, f"{source} was not saved; the version in force keeps running\n{exc}",
                               code="invalid")  # fmt: skip
        existing = await self.store.policies.get(space_id, policy.id)
        if existing is not None and await self._same_policy(existing, policy.spec_hash):
            return AdminResult(True, f"{policy.id} is unchanged (v{existing.version})", existing)
        saved = await self.store.policies.save_version(
            space_id, policy.id, yaml_text, policy.content_hash, actor.user_id,
            note=f"uploaded ({source})", **({"mode": mode} if mode else {}),
        )  # fmt: skip
        await self._audit(space_id, actor, "policy.upload", policy.id, {"version": saved.version})
        return AdminResult(True, f"{policy.id} saved as v{saved.version} ({saved.mode})", saved)

    async def _same_policy(self, existing: SpacePolicy, spec_hash: str) -> bool:
        """Every field equal, not just the prompt: a new action or prefilter is a new version."""
        try:
            source = f"{existing.policy_id} v{existing.version}"
            current = await self.book.compile(existing.yaml_text, source)
        except PolicyError:
            return False  # the stored text no longer loads: anything valid replaces it
        return current.spec_hash == spec_hash

    async def set_mode(self, space_id: str, actor: Actor, policy_id: str, mode: str) -> AdminResult:
        if refused := await self._refused(space_id, actor, "policy.mode", policy_id):
            return refused
        checked = pick(mode, POLICY_MODES)
        if checked is None:
            return AdminResult(False, f"mode must be one of {', '.join(POLICY_MODES)}, not {mode!r}",
                               code="invalid")  # fmt: skip
        if await self.store.policies.get(space_id, policy_id) is None:
            return AdminResult(False, f"no policy {policy_id!r} in this server", code="not_found")
        saved = await self.store.policies.set_mode(space_id, policy_id, checked, actor.user_id)
        await self._audit(space_id, actor, "policy.mode", policy_id, {"mode": checked})
        return AdminResult(True, f"{policy_id} is now {checked}", saved)

    async def set_scope(
        self, space_id: str, actor: Actor, policy_id: str, include: Sequence[str], exclude: Sequence[str]
    ) -> AdminResult:
        if refused := await self._refused(space_id, actor, "policy.scope", policy_id):
            return refused
        if await self.store.policies.get(space_id, policy_id) is None:
            return AdminResult(False, f"no policy {policy_id!r} in this server", code="not_found")
        saved = await self.store.policies.set_scope(space_id, policy_id, include, exclude, actor.user_id)
        detail = {"include": list(include), "exclude": list(exclude)}
        await self._audit(space_id, actor, "policy.scope", policy_id, detail)
        return AdminResult(True, f"{policy_id}'s scope changed", saved)

    async def rollback(self, space_id: str, actor: Actor, policy_id: str, version: int) -> AdminResult:
        if refused := await self._refused(space_id, actor, "policy.rollback", policy_id):
            return refused
        try:
            saved = await self.store.policies.rollback(space_id, policy_id, version, actor.user_id)
        except (KeyError, LookupError, ValueError) as exc:
            return AdminResult(False, f"cannot roll back {policy_id} to v{version}: {exc}", code="not_found")
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
            policy = await self.book.compile(new_text, f"{case.policy_id} + case {case.id}")
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
        await self.store.announce_change(space_id)  # other processes on one Postgres read it again
        role = await self._role(space_id, actor)
        await self.store.audit.record(
            space_id, actor.user_id, role, action, target, allowed=True, detail=detail
        )
