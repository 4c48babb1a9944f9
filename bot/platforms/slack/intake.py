"""Slack message events to `IncomingMessage`s, each with the channel's recent lines as context.

Channel messages, thread replies and edits (`message_changed`) are content; bot messages and
system subtypes (joins, topic changes, deletions) are not. Slack redelivers an event it thinks
was not acknowledged: a redelivery is recognised by `event_id` and costs nothing (not by
channel and ts, which would drop edits). The event is acknowledged only after `submit` has
persisted it; if that fails, the listener answers 503 and Slack delivers it again.
"""

from __future__ import annotations

import html
import logging
import re
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.messages import ContextLine, IncomingMessage

log = logging.getLogger(__name__)

CONTEXT_LINES = 20  # the core trims per policy (`context_messages`)
CONTENT_SUBTYPES = frozenset({"", "thread_broadcast", "file_share", "me_message"})
REMEMBERED_EVENTS = 10_000

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")

Submit = Callable[[IncomingMessage], Awaitable[object]]


class RecentIds:
    """Event ids seen lately, oldest forgotten first (bounded; per adapter, not global)."""

    def __init__(self, size: int = REMEMBERED_EVENTS) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def claim(self, event_id: str) -> bool:
        """True the first time an id is seen (in flight or done), False for a redelivery."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True

    def release(self, event_id: str) -> None:
        """The event was not persisted: let its redelivery through."""
        self._ids.pop(event_id, None)


def plain_text(text: str, names: Callable[[str], str] = lambda _id: "") -> str:
    """Slack's message markup as a person reads it: mentions, channels, links, entities."""

    def one(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2) or ""
        if target.startswith("@"):
            return "@" + (label or names(target[1:]) or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return label if label.startswith("@") else "@" + (label or target[1:].split("^", 1)[0])
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(one, text))


class Intake:
    def __init__(self, submit: Submit, names: Callable[[str], str] = lambda _id: "") -> None:
        self._submit = submit
        self._names = names
        self._seen = RecentIds()
        self._context: dict[str, deque[tuple[str, str]]] = {}  # channel -> (user id, text)

    def to_message(self, body: dict[str, Any], event: dict[str, Any]) -> IncomingMessage | None:
        """The event as a message for the core, or None when it is not members' content."""
        if event.get("type") != "message" or event.get("hidden"):
            return None
        if event.get("channel_type") in ("im", "mpim"):
            return None  # private conversations with the bot are not a community's channels
        subtype = str(event.get("subtype") or "")
        channel = str(event.get("channel") or "")
        edited = subtype == "message_changed"
        if edited:
            current = event.get("message") or {}
            before = event.get("previous_message") or {}
            if current.get("text", "") == before.get("text", ""):
                return None  # an unfurl or a reaction count, not new words
        elif subtype in CONTENT_SUBTYPES:
            current = event
        else:
            return None  # joins, topic changes, deletions, bot_message, ...
        user = str(current.get("user") or "")
        if not user or current.get("bot_id") or current.get("subtype") == "bot_message":
            return None
        text = plain_text(str(current.get("text") or ""), self._names)
        if not text.strip() or not channel:
            return None
        ts = str(current.get("ts") or "")
        team = str(body.get("team_id") or event.get("team") or current.get("team") or "")
        author = self._names(user) or user
        lines = self._context.setdefault(channel, deque(maxlen=CONTEXT_LINES))
        # Names are looked up now, not when a line was seen: a name learned since then shows.
        context = tuple(ContextLine(self._names(uid) or uid, said) for uid, said in lines)
        if not edited:
            lines.append((user, text))
        return IncomingMessage(
            platform="slack", space_id=team, channel_id=channel, message_id=ts, author_id=user,
            author_name=author, text=text, edited=edited, context=context, sent_at=_seconds(ts),
        )  # fmt: skip

    async def on_event(self, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """Persist one event's message. False when it could not be (Slack should send it again)."""
        event_id = str(body.get("event_id") or "")
        if event_id and not self._seen.claim(event_id):
            log.debug("slack: event %s was redelivered; already taken", event_id)
            return True
        try:
            message = self.to_message(body, event)
            if message is not None:
                await self._submit(message)
            return True
        except Exception:
            log.exception("slack: could not take event %s; Slack will deliver it again", event_id)
            self._seen.release(event_id)
            return False


def _seconds(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0
