"""MODEL_ENDPOINTS: the model servers of a pool, in a form an admin can write on one .env line.

    MODEL_ENDPOINTS=ollama=http://10.0.0.5:11434;slots=2, ollama=http://10.0.0.6:11434;slots=1

Entries are separated by commas; each starts with `kind=url` (kind `ollama` or `openai`) and may
add `;slots=N` (default 1), `;model=NAME` (default OLLAMA_MODEL, or ESCALATION_MODEL for 120b) and
`;tier=20b|120b` (default 20b). A mistake is reported with the entry's number and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

Kind = Literal["ollama", "openai"]
KINDS: tuple[Kind, ...] = ("ollama", "openai")
TIERS = {"20b": 1, "120b": 2}
MAX_SLOTS = 64


class EndpointSpecError(ValueError):
    """A MODEL_ENDPOINTS entry that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class EndpointSpec:
    kind: Kind
    url: str
    slots: int = 1
    model: str | None = None  # None: the tier's model setting
    tier: int = 1  # 1: the 20b, 2: the 120b

    @property
    def name(self) -> str:
        """What logs, metrics and the doctor call this endpoint: its URL without any user:password@."""
        parts = urlsplit(self.url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=host))


def parse_endpoints(text: str) -> list[EndpointSpec]:
    """Every entry of MODEL_ENDPOINTS, or EndpointSpecError naming the first bad one."""
    specs: list[EndpointSpec] = []
    entries = [e.strip() for e in text.split(",")]
    for number, entry in enumerate(entries, 1):
        if not entry:
            continue
        try:
            specs.append(_entry(entry))
        except EndpointSpecError as exc:
            raise EndpointSpecError(f"MODEL_ENDPOINTS entry {number} ({entry!r}): {exc}") from None
    urls = [(s.url.rstrip("/"), s.model, s.tier) for s in specs]
    if len(set(urls)) != len(urls):
        raise EndpointSpecError("MODEL_ENDPOINTS lists the same URL, model and tier twice")
    return specs


def _entry(entry: str) -> EndpointSpec:
    head, *options = [p.strip() for p in entry.split(";")]
    kind, sep, url = head.partition("=")
    kind = kind.strip().lower()
    url = url.strip()
    if not sep or kind not in KINDS:
        raise EndpointSpecError("start with ollama=URL or openai=URL")
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        raise EndpointSpecError(f"{url!r} is not an http:// or https:// URL")
    fields: dict[str, str] = {}
    for option in options:
        if not option:
            continue
        key, sep, value = option.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in ("slots", "model", "tier"):
            raise EndpointSpecError(f"unknown option {option!r} (use slots=, model= or tier=)")
        if key in fields:
            raise EndpointSpecError(f"{key} is given twice")
        fields[key] = value
    slots = fields.get("slots", "1")
    if not slots.isdigit() or not 1 <= int(slots) <= MAX_SLOTS:
        raise EndpointSpecError(f"slots must be a whole number from 1 to {MAX_SLOTS}, not {slots!r}")
    tier = fields.get("tier", "20b").lower()
    if tier not in TIERS:
        raise EndpointSpecError(f"tier must be 20b or 120b, not {tier!r}")
    model = fields.get("model")
    if model == "":
        raise EndpointSpecError("model= is empty")
    return EndpointSpec(kind, url, int(slots), model, TIERS[tier])
