"""Lint warnings for prefilters that select (nearly) every message.

An empty regex, `.*`, or a keyword like `a` passes every check of form yet sends every message
to the model: the GPU budget is gone and the policy runs as if `always: true` were set, without
the author meaning it. These are warnings, not errors: `always: true` says it on purpose.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.policy_model import PolicyFile, Prefilter
from bot.core.prefilter import CompiledPrefilter, PreparedText

# Everyday chat no moderation policy should need to see: a prefilter selecting all of it
# selects everything.
ORDINARY = ("gg", "ok thanks", "hello everyone", "lol see you tomorrow", "123")

Problem = Callable[..., None]  # (loc, message, *, warning)


def check_reach(spec: PolicyFile, prefilter: CompiledPrefilter, problem: Problem) -> None:
    pf = spec.prefilter
    if pf.always:
        return
    hint = "so every message goes to the model; write what the policy is about, or say always: true"
    flagged = False
    for i, pattern in enumerate(pf.regex):
        alone = CompiledPrefilter(Prefilter(regex=(pattern,)), spec.id)
        if alone.match(PreparedText.of("")) is not None:
            problem(("prefilter", "regex", i), f"{pattern!r} matches an empty message, {hint}", warning=True)
            flagged = True
    for i, domain in enumerate(pf.domains):
        if "." not in domain.strip().strip("."):
            problem(
                ("prefilter", "domains", i),
                f"{domain!r} is a whole top-level domain: it selects every link under it; "
                "list the sites themselves (e.g. scam-site.com)",
                warning=True,
            )
    if not flagged and all(prefilter.match(PreparedText.of(text)) is not None for text in ORDINARY):
        problem(("prefilter",), f"selects ordinary chat such as {ORDINARY[1]!r}, {hint}", warning=True)
