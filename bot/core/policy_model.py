"""The policy format: strict pydantic models for one YAML policy file.

Field docs here are the source of truth for community_policies/README.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high"]
Effort = Literal["low", "medium", "high"]
ActionKind = Literal["flag", "delete", "timeout"]
Label = Literal["violation", "allowed"]

ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
RULE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Rule(Strict):
    id: str = Field(pattern=RULE_ID_PATTERN)
    text: str = Field(min_length=3)


class Example(Strict):
    text: str = Field(min_length=1)
    label: Label
    rule_ids: tuple[str, ...] = ()
    why: str = ""


class Prefilter(Strict):
    always: bool = False  # every message goes to the model
    keywords: tuple[str, ...] = ()  # whole words or phrases; a trailing * matches a prefix
    regex: tuple[str, ...] = ()  # RE2 syntax, matched against the normalised text
    links: bool = False  # any message with a URL is a candidate
    domains: tuple[str, ...] = ()  # listed domains and their subdomains
    domain_files: tuple[str, ...] = ()  # JSON ({"domains": [...]}) or one domain per line
    sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)  # spot-check non-matching messages
    screen: bool = True  # the learned screen may offer messages no keyword selected to the model


class Action(Strict):
    kind: ActionKind = "flag"
    timeout_minutes: int = Field(default=60, ge=1, le=40320)  # Discord's maximum is 28 days
    min_confidence: Literal["medium", "high"] = "high"


class Escalation(Strict):
    on_low_confidence: bool = True
    on_unavailable: bool = True
    on_violation: bool = False  # ask the bigger model before any flag
    always: bool = False  # severity high implies this


class PolicyFile(Strict):
    id: str = Field(pattern=ID_PATTERN)
    version: int = Field(ge=1)
    title: str = Field(min_length=3, max_length=100)
    category: str = Field(min_length=2, max_length=40, pattern=r"^[a-z0-9_-]+$")
    severity: Severity = "medium"
    instructions: str = Field(min_length=20)
    definitions: dict[str, str] = Field(default_factory=dict)
    rules: tuple[Rule, ...] = Field(min_length=1)
    allowed: tuple[Rule, ...] = ()
    examples: tuple[Example, ...] = ()
    prefilter: Prefilter = Prefilter()
    action: Action = Action()
    escalation: Escalation = Escalation()
    reasoning_effort: Effort = "low"
    num_ctx: int = Field(default=8192, ge=2048, le=131072)
    context_messages: int = Field(default=3, ge=0, le=20)
    moderator_note: str = ""  # shown to moderators on flags (e.g. how to respond with care)
