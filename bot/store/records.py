"""What the store hands back: frozen dataclasses, never database rows.

JSON columns holding free-form dicts are exposed as their JSON text (``*_json``) plus a property that
parses it, so every record stays immutable and hashable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

from bot.core.messages import ContextLine, IncomingMessage
from bot.core.vocab import APPEAL_STATUSES as APPEAL_STATUSES
from bot.core.vocab import CASE_STATUSES as CASE_STATUSES
from bot.core.vocab import POLICY_MODES as POLICY_MODES
from bot.core.vocab import AppealStatus as AppealStatus
from bot.core.vocab import CaseStatus as CaseStatus
from bot.core.vocab import PolicyMode as PolicyMode

JobStatus = Literal["pending", "leased", "done", "failed"]
OutboxStatus = Literal["pending", "done", "failed"]

# The allowed values, in the order of the Literal types (the tables' CHECK constraints agree).
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
OUTBOX_STATUSES: tuple[OutboxStatus, ...] = get_args(OutboxStatus)


def _parse(text: str | None) -> Any:
    return json.loads(text) if text else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Space:
    id: str
    platform: str
    name: str
    mod_channel_id: str = ""
    mod_role_id: str = ""
    admin_role_id: str = ""
    notify_members: bool = True
    retention_days: int = 30
    auto_actions: bool = False
    budget_per_minute: int = 60
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SpacePolicy:
    """The current version of one policy in one space, and how it is enabled."""

    space_id: str
    policy_id: str
    version: int
    yaml_text: str
    content_hash: str
    mode: PolicyMode
    channels: tuple[str, ...]  # empty: every channel
    updated_by: str
    updated_at: float
    excluded_channels: tuple[str, ...] = ()  # never looked at, even when `channels` is empty


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyVersion:
    space_id: str
    policy_id: str
    version: int
    yaml_text: str
    content_hash: str
    created_by: str
    created_at: float
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewJob:
    """One classification job to enqueue: one message against one candidate policy."""

    dedupe_key: str
    space_id: str
    platform: str
    channel_id: str
    message_id: str
    author_id: str
    text: str
    policy_id: str
    policy_version: int
    policy_hash: str
    channel_name: str = ""
    author_name: str = ""
    context: tuple[ContextLine, ...] = ()
    edited: bool = False
    sent_at: float = 0.0
    match_reason: str = ""
    escalate: bool = False
    not_before: float = 0.0

    @classmethod
    def from_message(
        cls,
        message: IncomingMessage,
        *,
        policy_id: str,
        policy_version: int,
        policy_hash: str,
        match_reason: str = "",
        escalate: bool = False,
        dedupe_key: str | None = None,
    ) -> NewJob:
        """A job for ``message``; the default dedupe key makes a redelivered event a no-op, while an
        edit (new text) or a new policy text is a new job."""
        if dedupe_key is None:
            dedupe_key = default_dedupe_key(message, policy_id, policy_hash)
        return cls(
            dedupe_key=dedupe_key,
            space_id=message.space_id,
            platform=message.platform,
            channel_id=message.channel_id,
            channel_name=message.channel_name,
            message_id=message.message_id,
            author_id=message.author_id,
            author_name=message.author_name,
            text=message.text,
            context=message.context,
            edited=message.edited,
            sent_at=message.sent_at,
            policy_id=policy_id,
            policy_version=policy_version,
            policy_hash=policy_hash,
            match_reason=match_reason,
            escalate=escalate,
        )


def default_dedupe_key(message: IncomingMessage, policy_id: str, policy_hash: str) -> str:
    parts = (message.platform, message.space_id, message.message_id, policy_id, policy_hash, message.text)
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"{message.platform}:{message.space_id}:{message.message_id}:{policy_id}:{digest}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    id: int
    dedupe_key: str
    space_id: str
    platform: str
    channel_id: str
    channel_name: str
    message_id: str
    author_id: str
    author_name: str
    text: str  # "" once purged
    context: tuple[ContextLine, ...]
    edited: bool
    sent_at: float
    policy_id: str
    policy_version: int
    policy_hash: str
    match_reason: str
    status: JobStatus
    attempts: int
    not_before: float
    last_error: str | None
    escalate: bool
    created_at: float
    updated_at: float
    purged_at: float | None = None

    def to_message(self) -> IncomingMessage:
        """The message as the adapter delivered it, for the classifier."""
        return IncomingMessage(
            platform=self.platform,
            space_id=self.space_id,
            channel_id=self.channel_id,
            message_id=self.message_id,
            author_id=self.author_id,
            author_name=self.author_name,
            text=self.text,
            channel_name=self.channel_name,
            edited=self.edited,
            context=self.context,
            sent_at=self.sent_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredVerdict:
    id: int
    job_id: int | None
    space_id: str
    message_id: str
    policy_id: str
    policy_version: int
    policy_hash: str
    tier: int
    model: str
    violation: bool
    confidence: str
    rule_ids: tuple[str, ...]
    category: str | None
    rationale: str
    reasoning: str  # for moderators only; "" once purged
    source: str
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    previous_json: str | None  # the lower tier's answer (Verdict/Unavailable.to_dict())
    escalation_failed_json: str | None
    shadow: bool
    created_at: float
    purged_at: float | None = None
    cached: bool = False  # served from the verdict cache: no model call

    @property
    def previous(self) -> dict[str, Any] | None:
        parsed: dict[str, Any] | None = _parse(self.previous_json)
        return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    id: int
    space_id: str
    platform: str
    channel_id: str
    message_id: str
    author_id: str
    author_name: str
    policy_id: str
    policy_version: int
    rule_ids: tuple[str, ...]
    category: str | None
    rationale: str
    confidence: str
    tier: int
    excerpt: str  # first 300 characters of the message; "" once purged
    verdict_id: int | None
    status: CaseStatus
    flag_ref: str | None
    action_taken: str | None
    decided_by: str | None
    decided_at: float | None
    created_at: float
    updated_at: float
    purged_at: float | None = None
    shadow: bool = False  # the policy was in shadow mode: seen by moderators, never acted on


@dataclass(frozen=True, slots=True, kw_only=True)
class Appeal:
    id: int
    case_id: int
    member_id: str
    statement: str
    status: AppealStatus
    second_opinion_json: str | None
    decided_by: str | None
    decided_at: float | None
    created_at: float

    @property
    def second_opinion(self) -> dict[str, Any] | None:
        parsed: dict[str, Any] | None = _parse(self.second_opinion_json)
        return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: int
    space_id: str
    actor_id: str
    actor_role: str
    action: str
    target: str
    allowed: bool
    detail_json: str
    created_at: float

    @property
    def detail(self) -> dict[str, Any]:
        parsed: dict[str, Any] = _parse(self.detail_json) or {}
        return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    id: int
    space_id: str
    kind: str
    case_id: int | None
    payload_json: str
    status: OutboxStatus
    attempts: int
    not_before: float
    last_error: str | None
    created_at: float

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = _parse(self.payload_json) or {}
        return parsed
