"""Plain data that flows through the core: messages in, verdicts out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.core.text import valid_text

Confidence = Literal["low", "medium", "high"]
CONFIDENCES: tuple[Confidence, ...] = ("low", "medium", "high")

UnavailableReason = Literal[
    "timeout",  # the server did not answer in time
    "busy",  # 503 / queue full: try again later
    "connection",  # could not reach the server
    "http_error",  # any other HTTP error status
    "model_missing",  # the model is not pulled / not served
    "malformed",  # the server's reply was not the API's shape
    "empty",  # the model produced no answer, twice
    "truncated",  # the answer was cut off (context or output limit)
    "unparseable",  # an answer came back but held no verdict
    "not_configured",  # no such tier
]

# Reasons worth retrying later with backoff (the model may come back).
TRANSIENT_REASONS: frozenset[str] = frozenset({"timeout", "busy", "connection", "http_error"})


@dataclass(frozen=True, slots=True)
class ContextLine:
    """One earlier message of the conversation, shown to the model for context only."""

    author: str
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "author", valid_text(self.author))
        object.__setattr__(self, "text", valid_text(self.text))


_TEXT_FIELDS = ("space_id", "channel_id", "message_id", "author_id", "author_name", "text", "channel_name")


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One platform message, as every adapter hands it to the core."""

    platform: str  # "discord" | "slack" | "console"
    space_id: str  # guild or workspace
    channel_id: str
    message_id: str
    author_id: str
    author_name: str
    text: str
    channel_name: str = ""
    edited: bool = False
    context: tuple[ContextLine, ...] = ()
    sent_at: float = 0.0

    def __post_init__(self) -> None:
        # The one door into the core: whatever the adapter or file held, text is valid from here.
        for name in _TEXT_FIELDS:
            object.__setattr__(self, name, valid_text(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """Which policy, and exactly which text of it, produced a verdict."""

    id: str
    version: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A parsed answer of one model tier about one message and one policy."""

    violation: bool
    confidence: Confidence
    rule_ids: tuple[str, ...]
    category: str | None
    rationale: str
    reasoning: str  # chain of thought: for moderators only, never shown to members
    tier: int
    model: str
    policy: PolicyRef
    latency_ms: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    source: Literal["content", "reasoning", "bare"] = "content"
    # When this verdict came from an escalation, the lower tier's answer.
    previous: Verdict | Unavailable | None = None
    # When escalation was tried and failed, why (the verdict is then the lower tier's).
    escalation_failed: Unavailable | None = None

    def to_dict(self, *, with_reasoning: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = "verdict"
        data["previous"] = self.previous.to_dict() if self.previous else None
        data["escalation_failed"] = self.escalation_failed.to_dict() if self.escalation_failed else None
        if not with_reasoning:
            data.pop("reasoning")
        return data


@dataclass(frozen=True, slots=True)
class Unavailable:
    """No usable answer. Never a violation, never a pass: the caller must retry or hold."""

    reason: UnavailableReason
    detail: str
    tier: int
    model: str
    policy: PolicyRef
    latency_ms: float = 0.0
    previous: Verdict | Unavailable | None = None
    raw_excerpt: str = field(default="", repr=False)

    @property
    def transient(self) -> bool:
        return self.reason in TRANSIENT_REASONS

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = "unavailable"
        data["previous"] = self.previous.to_dict() if self.previous else None
        return data


Result = Verdict | Unavailable
