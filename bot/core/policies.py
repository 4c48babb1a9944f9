"""Load YAML policies into strict models, with errors a policy author can act on.

Every problem is one line: `file:line: field: what is wrong and how to fix it`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.core.messages import PolicyRef
from bot.core.policy_errors import GUIDE, PolicyError, PolicyProblem
from bot.core.policy_loc import locate, path_label
from bot.core.policy_model import PolicyFile
from bot.core.policy_reach import check_reach
from bot.core.policy_yaml import MAX_POLICY_CHARS, read_yaml
from bot.core.prefilter import CompiledPrefilter, PrefilterError, PreparedText
from bot.core.prompt import render_policy

__all__ = [
    "Policy",
    "PolicyError",
    "PolicyProblem",
    "TokenCount",
    "TokenLimits",
    "expand_paths",
    "load_policy_dir",
    "load_policy_file",
    "parse_policy",
    "portable_text",
]


@dataclass(frozen=True, slots=True)
class TokenLimits:
    warn_above: int = 600
    refuse_above: int = 10_000


@dataclass(frozen=True)
class Policy:
    """A validated policy, ready for the prefilter and the prompt."""

    spec: PolicyFile
    source: str
    system_prompt: str
    content_hash: str  # the rendered prompt: keys the verdict cache and the server's KV reuse
    prompt_tokens: int
    prefilter: CompiledPrefilter = field(repr=False)
    warnings: tuple[PolicyProblem, ...] = ()
    spec_hash: str = ""  # every field: what a new version is (an action change is a change)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> int:
        return self.spec.version

    @property
    def ref(self) -> PolicyRef:
        return PolicyRef(self.spec.id, self.spec.version, self.content_hash)


TokenCount = Callable[[str], int]


def load_policy_file(path: Path, count_tokens: TokenCount, limits: TokenLimits) -> Policy:
    try:
        # Read at most one character past the limit: a huge file costs nothing before it is refused.
        with path.open(encoding="utf-8") as fh:
            text = fh.read(MAX_POLICY_CHARS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyProblem(str(path), 1, "(file)", f"cannot read: {exc}")]) from exc
    return parse_policy(text, str(path), count_tokens, limits, base_dir=path.parent)


def parse_policy(
    text: str,
    source: str,
    count_tokens: TokenCount,
    limits: TokenLimits,
    base_dir: Path | None = None,
) -> Policy:
    node, data = read_yaml(text, source)
    problems: list[PolicyProblem] = []

    def problem(loc: tuple[str | int, ...], message: str, *, warning: bool = False) -> None:
        problems.append(PolicyProblem(source, locate(node, loc), path_label(loc), message, warning))

    try:
        spec = PolicyFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problem(tuple(err["loc"]), _explain(err))
        raise PolicyError(problems) from None

    _check_semantics(spec, problem)
    prefilter: CompiledPrefilter | None = None
    try:
        prefilter = CompiledPrefilter(spec.prefilter, spec.id, base_dir)
    except PrefilterError as exc:
        problem(("prefilter", *_split_field(exc.field)), str(exc))
    if prefilter is not None and not prefilter.selects_anything:
        problem(
            ("prefilter",),
            "selects no message: add keywords, regex, links or domains, "
            "or set always: true (every message goes to the model)",
        )

    if prefilter is not None:
        check_reach(spec, prefilter, problem)
        for i, ex in enumerate(spec.examples):
            if ex.label == "violation" and prefilter.match(PreparedText.of(ex.text)) is None:
                problem(
                    ("examples", i, "text"),
                    "the prefilter does not select this violation example, so the live bot "
                    "would never ask the model about it: add a keyword or regex that catches it",
                    warning=True,
                )
    system_prompt = render_policy(spec)
    tokens = count_tokens(system_prompt)
    # The 400-600 guideline is about the policy an author writes. modbot's own framing (the
    # output format twice, the data-not-instructions note, each example's JSON answer) adds
    # about 450 tokens to every policy; warning about those would be noise no author can fix.
    authored = count_tokens(authored_text(spec))
    if tokens > limits.refuse_above:
        problem(
            ("instructions",),
            f"the policy prompt is {tokens} tokens, over the limit of {limits.refuse_above}: "
            "shorten the instructions, definitions or examples (400-600 tokens works best)",
        )
    elif authored > limits.warn_above:
        problem(
            ("instructions",),
            f"the policy text is {authored} tokens (the prompt with modbot's framing is {tokens}); "
            "400-600 works best, longer costs GPU time on every message: shorten the "
            "instructions, definitions, rules or examples",
            warning=True,
        )
    errors = [p for p in problems if not p.warning]
    if errors or prefilter is None:
        raise PolicyError(errors)
    digest = hashlib.sha256(system_prompt.encode()).hexdigest()[:16]
    return Policy(
        spec,
        source,
        system_prompt,
        digest,
        tokens,
        prefilter,
        tuple(p for p in problems if p.warning),
        spec_hash=hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:16],
    )


def authored_text(spec: PolicyFile) -> str:
    """What the policy's author wrote and controls: the part the length guideline is about."""
    parts = [spec.title, spec.instructions]
    parts += [f"{term}: {meaning}" for term, meaning in spec.definitions.items()]
    parts += [f"[{rule.id}] {rule.text}" for rule in (*spec.rules, *spec.allowed)]
    parts += [f"{ex.text} -> {ex.label} {' '.join(ex.rule_ids)}: {ex.why}" for ex in spec.examples]
    return "\n".join(parts)


def _split_field(name: str) -> tuple[str | int, ...]:
    # "regex[2]" -> ("regex", 2)
    if "[" in name:
        head, idx = name.rstrip("]").split("[", 1)
        return (head, int(idx))
    return (name,)


_HINTS = {
    "missing": "is required; add it ({guide})",
    "extra_forbidden": "is not a policy field; remove it or fix the spelling ({guide})",
    "string_type": "must be text; put it in quotes",
    "int_type": "must be a whole number, e.g. 3",
    "int_parsing": "must be a whole number, e.g. 3",
    "int_from_float": "must be a whole number, e.g. 3",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "float_parsing": "must be a number such as 0.05",
    "dict_type": "must be a mapping of `name: value` lines",
    "model_type": "must be a mapping of fields",
    "tuple_type": "must be a list (lines starting with `- `)",
    "list_type": "must be a list (lines starting with `- `)",
}


def _explain(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _HINTS:
        return _HINTS[kind].format(guide=GUIDE)
    msg = err["msg"]
    loc = err["loc"]
    if kind == "string_pattern_mismatch":
        last = loc[-1] if loc else ""
        if last == "id" and len(loc) == 1:
            return "must be lowercase letters, digits and dashes, e.g. game-cheating"
        if last == "id":
            return "must be a short id of letters, digits, dots or dashes, e.g. GC1"
        if last == "category":
            return "must be lowercase letters, digits, _ or -, e.g. cheating"
        return msg
    if kind == "too_short" and loc and loc[-1] == "rules":
        return "needs at least one rule: a list of `- id: X1` / `text: ...` entries"
    if kind == "literal_error":
        return msg.replace("Input should be", "must be")
    return msg.replace("Input should", "must").replace("Value should", "must")


def _check_semantics(spec: PolicyFile, problem: Callable[..., None]) -> None:
    ids: dict[str, tuple[str | int, ...]] = {}
    for group in ("rules", "allowed"):
        for i, rule in enumerate(getattr(spec, group)):
            if rule.id in ids:
                problem((group, i, "id"), f"rule id {rule.id!r} is used twice; make ids unique")
            ids[rule.id] = (group, i)
    violating = {r.id for r in spec.rules}
    for i, ex in enumerate(spec.examples):
        for j, rid in enumerate(ex.rule_ids):
            if rid not in ids:
                known = ", ".join(sorted(ids))
                problem(("examples", i, "rule_ids", j), f"unknown rule {rid!r}; known: {known}")
        unknown = any(r not in ids for r in ex.rule_ids)
        if ex.label == "violation" and not unknown and not any(r in violating for r in ex.rule_ids):
            problem(
                ("examples", i, "rule_ids"),
                "a violation example must name the rule it breaks, e.g. rule_ids: [X1]",
            )
    labels = {ex.label for ex in spec.examples}
    if len(spec.examples) < 4 or labels != {"violation", "allowed"}:
        problem(
            ("examples",),
            "give 4-6 borderline examples with both labels (violation and allowed): "
            "they teach the model where the line is",
            warning=True,
        )
    if spec.action.kind != "flag" and spec.severity == "low":
        problem(("action", "kind"), "automatic actions need severity medium or high")


def load_policy_dir(
    paths: Iterable[Path], count_tokens: TokenCount, limits: TokenLimits
) -> tuple[dict[str, Policy], list[PolicyProblem]]:
    """Load many files; a broken file is reported and skipped, the others still load."""
    policies: dict[str, Policy] = {}
    problems: list[PolicyProblem] = []
    for path in expand_paths(paths):
        try:
            policy = load_policy_file(path, count_tokens, limits)
        except PolicyError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(policy.warnings)
        if policy.id in policies:
            problems.append(
                PolicyProblem(
                    str(path),
                    1,
                    "id",
                    f"{policy.id!r} is already defined in {policies[policy.id].source}",
                )
            )
            continue
        policies[policy.id] = policy
    return policies, problems


def portable_text(policy: Policy, text: str) -> str:
    """The policy's YAML with its domain files inlined, fit to upload into a space.

    Uploaded policies cannot read files on the server, so a library policy that keeps its
    domains in files carries them inline when it is installed (its comments are lost then).
    """
    if not policy.spec.prefilter.domain_files:
        return text
    data = yaml.safe_load(text)
    prefilter = data["prefilter"]
    prefilter.pop("domain_files")
    prefilter["domains"] = sorted(policy.prefilter.domains)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            out.append(p)
    return out
