"""Helpers the commands share: finding a policy by id or file, printing errors."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bot.app import Toolkit
from bot.core.policies import Policy, PolicyError, load_policy_file
from bot.store.pg import CONNECT_TIMEOUT_S


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


async def postgres_unreachable(url: str) -> str | None:
    """Why the PostgreSQL in DATABASE_URL cannot be used from here (None when it can): one line
    naming the host (never the password), not a traceback."""
    where = urlsplit(url).netloc.rpartition("@")[2] or "localhost"
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return (
            f"cannot connect to PostgreSQL at {where} ({type(exc).__name__}); check DATABASE_URL (with "
            "the deployment's operator), and that this machine may reach it (VPN, firewall, sslmode)"
        )
    await conn.close(timeout=CONNECT_TIMEOUT_S)
    return None
