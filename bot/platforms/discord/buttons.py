"""Buttons that survive restarts: the case or appeal id lives in the custom id.

Each class is a `discord.ui.DynamicItem` template registered once on the client; a click on
any card ever posted is parsed back into (id, action) and handed to `interactions.py`, which
calls the core. Nothing about a card is kept in memory.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.platforms.discord.connection import ModbotClient

CASE_TEMPLATE = r"modbot:case:(?P<case>[0-9]{1,18}):(?P<action>[a-z_]{1,20})"
APPEAL_TEMPLATE = r"modbot:appeal:(?P<appeal>[0-9]{1,18}):(?P<outcome>upheld|overturned)"
APPEAL_OPEN_TEMPLATE = r"modbot:appeal-open:(?P<case>[0-9]{1,18})"
APPEAL_FORM = re.compile(r"modbot:appeal-form:(?P<case>[0-9]{1,18})")
POLICY_EDIT_FORM = re.compile(r"modbot:policy-edit:(?P<policy>[a-z0-9_.-]{1,64})")


def appeal_form_id(case_id: int) -> str:
    return f"modbot:appeal-form:{case_id}"


def policy_edit_id(policy_id: str) -> str:
    return f"modbot:policy-edit:{policy_id}"


def _client(interaction: discord.Interaction[Any]) -> ModbotClient:
    return interaction.client  # type: ignore[no-any-return]


class CaseButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CASE_TEMPLATE):
    """Remove, Dismiss, Timeout, Escalate, Add as example, Show reasoning on a flag card."""

    def __init__(self, case_id: int, action: str, label: str = "", style: Any = None) -> None:
        self.case_id, self.action = case_id, action
        style = style or discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(label=label or action, style=style, custom_id=f"modbot:case:{case_id}:{action}")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CaseButton:
        return cls(int(match["case"]), match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client(interaction).handlers().interactions.case_button(interaction, self.case_id, self.action)


class AppealDecisionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=APPEAL_TEMPLATE):
    """Uphold / Overturn on a card whose case was appealed."""

    def __init__(self, appeal_id: int, outcome: str, label: str = "", style: Any = None) -> None:
        self.appeal_id, self.outcome = appeal_id, outcome
        style = style or discord.ButtonStyle.secondary
        custom_id = f"modbot:appeal:{appeal_id}:{outcome}"
        super().__init__(discord.ui.Button(label=label or outcome, style=style, custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AppealDecisionButton:
        return cls(int(match["appeal"]), match["outcome"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await (
            _client(interaction)
            .handlers()
            .interactions.appeal_decision(interaction, self.appeal_id, self.outcome)
        )


class AppealOpenButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=APPEAL_OPEN_TEMPLATE):
    """The Appeal button in a member's DM: opens the statement form."""

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        super().__init__(
            discord.ui.Button(
                label="Appeal", style=discord.ButtonStyle.primary, custom_id=f"modbot:appeal-open:{case_id}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AppealOpenButton:
        return cls(int(match["case"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _client(interaction).handlers().interactions.open_appeal(interaction, self.case_id)


DYNAMIC_ITEMS = (CaseButton, AppealDecisionButton, AppealOpenButton)
