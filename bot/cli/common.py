"""Helpers the commands share: finding a policy by id or file, printing errors."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app import Toolkit
from bot.core.policies import Policy, PolicyError, load_policy_file


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def err(message: str) -> None:
    print(f"modbot: {message}", file=sys.stderr)


def find_policy(toolkit: Toolkit, ref: str) -> Policy:
    """`ref` is a policy id from POLICY_DIR, or a path to a YAML file."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        try:
            policy = load_policy_file(path, toolkit.tokens.count, toolkit.limits)
        except PolicyError as exc:
            raise CliError(f"policy {ref} is broken:\n{exc}") from None
        return policy
    policies, problems = toolkit.load_policies()
    if ref in policies:
        return policies[ref]
    broken = [p for p in problems if not p.warning]
    known = ", ".join(sorted(policies)) or "none"
    hint = f"\n{len(broken)} policy file(s) failed to load; run `modbot policy lint`" if broken else ""
    raise CliError(
        f"no policy {ref!r} in {toolkit.settings.policy_dir} (known: {known}); "
        f"pass an id or a .yaml path{hint}"
    )
