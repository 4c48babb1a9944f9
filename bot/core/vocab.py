"""The core's vocabularies as types: actions, modes, statuses, roles.

The store's CHECK constraints agree with these; user input is checked against them where it
enters (`parse_*`), so a typo is a refusal with the valid choices, never an exception.
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

Role = Literal["member", "moderator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
ROLE_RANK: dict[Role, int] = {"member": 0, "moderator": 1, "admin": 2}

PolicyMode = Literal["live", "shadow", "off"]
CaseStatus = Literal["open", "removed", "dismissed", "timed_out", "escalating", "overturned", "upheld"]
AppealStatus = Literal["pending", "upheld", "overturned"]
AppealOutcome = Literal["upheld", "overturned"]
CaseAction = Literal["remove", "dismiss", "timeout", "escalate", "add_example"]
# Buttons a card may carry: the case actions, the appeal decisions, and the reasoning viewer.
CardButton = Literal[
    "remove", "dismiss", "timeout", "escalate", "add_example", "show_reasoning", "uphold", "overturn"
]

POLICY_MODES: tuple[PolicyMode, ...] = get_args(PolicyMode)
CASE_STATUSES: tuple[CaseStatus, ...] = get_args(CaseStatus)
APPEAL_STATUSES: tuple[AppealStatus, ...] = get_args(AppealStatus)
APPEAL_OUTCOMES: tuple[AppealOutcome, ...] = get_args(AppealOutcome)
CASE_ACTIONS: tuple[CaseAction, ...] = get_args(CaseAction)
CARD_BUTTONS: tuple[CardButton, ...] = get_args(CardButton)

T = TypeVar("T", bound=str)


def pick(value: str, choices: tuple[T, ...]) -> T | None:
    """`value` as one of `choices` (case-insensitive, surrounding space ignored), or None."""
    wanted = value.strip().lower()
    for choice in choices:
        if wanted == choice:
            return choice
    return None
