"""Workloads of real messages for the pipeline benchmarks, planned before they are sent.

The prefilter is deterministic (its spot-check sample is keyed by space and message id), so
the bench knows in advance which messages become model jobs: a backlog can be sized in model
calls, and texts can be kept distinct so the verdict cache does not shortcut the model.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.rig import compile_policy, library_yaml, make_message
from bot.core.classifier.base import ClassifyRequest
from bot.core.messages import IncomingMessage
from bot.core.normalize import normalise
from bot.core.policies import Policy
from bot.core.prefilter import PreparedText

__all__ = [
    "Planned",
    "candidates",
    "job_keys",
    "library_policies",
    "percentile",
    "plan",
    "poisson_times",
    "user_messages",
]


@dataclass(frozen=True, slots=True)
class Planned:
    message: IncomingMessage
    policies: tuple[str, ...]  # the policies whose prefilter selects it: one model job each


@functools.cache
def library_policies() -> dict[str, Policy]:
    """Every library policy, compiled the way the core's PolicyBook compiles it."""
    return {pid: compile_policy(text, f"{pid}.yaml") for pid, text in library_yaml().items()}


def candidates(msg: IncomingMessage, policy_ids: Sequence[str]) -> tuple[str, ...]:
    """The policies that would queue a job for `msg`, exactly as Pipeline.submit decides."""
    prepared = PreparedText.of(msg.text)
    key = f"{msg.space_id}:{msg.message_id}"
    pols = library_policies()
    return tuple(pid for pid in policy_ids if pols[pid].prefilter.match(prepared, sample_key=key))


def plan(
    texts: Iterable[str],
    spaces: Sequence[str],
    policy_ids: Sequence[str],
    *,
    prefix: str,
    jobs: int | None = None,
    messages: int | None = None,
    exactly_one: bool = False,
    seen: set[str] | None = None,
) -> list[Planned]:
    """Candidate messages, spread round-robin over `spaces`, until `jobs` jobs or `messages` messages.

    Texts whose normalised form is in `seen` are skipped and added to it, so no two planned
    messages share a verdict-cache entry. `exactly_one`: only messages selected by one policy.
    """
    seen = set() if seen is None else seen
    out: list[Planned] = []
    total = 0
    for i, text in enumerate(texts):
        if (jobs is not None and total >= jobs) or (messages is not None and len(out) >= messages):
            break
        norm = normalise(text)
        if not norm.strip() or norm in seen:
            continue
        msg = make_message(spaces[len(out) % len(spaces)], f"{prefix}{i}", text, author=f"member{i % 97}")
        picked = candidates(msg, policy_ids)
        if not picked or (exactly_one and len(picked) != 1):
            continue
        seen.add(norm)
        out.append(Planned(msg, picked))
        total += len(picked)
    return out


def job_keys(planned: Iterable[Planned]) -> list[tuple[str, str, str]]:
    """(space, message, policy) of every job the planned messages create."""
    return [(p.message.space_id, p.message.message_id, pid) for p in planned for pid in p.policies]


def user_messages(planned: Iterable[Planned]) -> list[str]:
    """The user turn the classifier sends for each job (what the model prefills)."""
    out: list[str] = []
    for p in planned:
        m = p.message
        text = ClassifyRequest(m.text, m.author_name or m.author_id, m.channel_name, m.context).user_message()
        out += [text] * len(p.policies)
    return out


def poisson_times(n: int, rate_per_s: float, seed: int) -> list[float]:
    """`n` arrival offsets (seconds from 0) of a Poisson process with the given rate."""
    rng = random.Random(seed)
    t = 0.0
    out: list[float] = []
    for _ in range(n):
        t += rng.expovariate(rate_per_s)
        out.append(t)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, math.ceil(q / 100 * len(ranked)) - 1))]
