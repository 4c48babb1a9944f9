"""Slack message events to `IncomingMessage`s, each with the channel's recent lines as context.

Channel messages, thread replies and edits (`message_changed`) are content; bot messages and
system subtypes (joins, topic changes, deletions) are not. Slack redelivers an event it thinks
was not acknowledged (after 3 s): a redelivery is recognised by `event_id` (not by channel and
ts, which would drop edits). The event is acknowledged only after `submit` has persisted it;
if that fails, the listener answers 503 and Slack delivers it again. A redelivery that arrives
while the first attempt is still running waits for that attempt and answers with its outcome,
so a retry is never acknowledged for a message that then fails to be stored; a redelivery of
a stored event costs nothing.
"""

from __future__ import annotations

import asyncio
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


class Attempts:
    """Per event id lately seen: the attempt taking it while it runs, then "stored" (bounded).

    Per adapter, not global. A failed attempt forgets its id, so Slack's next retry tries again.
    """

    def __init__(self, size: int = REMEMBERED_EVENTS) -> None:
        self._size = size
        self._ids: OrderedDict[str, asyncio.Task[bool] | None] = OrderedDict()  # None: stored

    def get(self, event_id: str) -> asyncio.Task[bool] | bool:
        """The running attempt, True when the event was stored, False when none is known."""
        if event_id not in self._ids:
            return False
        return self._ids[event_id] or True

    def start(self, event_id: str, attempt: asyncio.Task[bool]) -> None:
        self._ids[event_id] = attempt
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)
        attempt.add_done_callback(lambda done: self._finished(event_id, done))

    def _finished(self, event_id: str, attempt: asyncio.Task[bool]) -> None:
        if self._ids.get(event_id) is not attempt:
            return  # already forgotten (the bound) or replaced
        if not attempt.cancelled() and attempt.exception() is None and attempt.result():
            self._ids[event_id] = None  # stored: keep the id, drop the task
        else:
            del self._ids[event_id]  # not stored: let the redelivery through


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
        self._attempts = Attempts()
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
        if not event_id:
            return await self._take(body, event)
        known = self._attempts.get(event_id)
        if known is True:
            log.debug("slack: event %s was redelivered; already stored", event_id)
            return True
        if isinstance(known, asyncio.Task):
            log.debug("slack: event %s was redelivered while it is being stored; waiting", event_id)
            attempt = known
        else:
            attempt = asyncio.create_task(self._take(body, event), name=f"slack-intake-{event_id}")
            self._attempts.start(event_id, attempt)
        # Shielded: if Slack drops this request (the listener is cancelled), the attempt goes
        # on, and the retry that is waiting for it gets its outcome.
        return await asyncio.shield(attempt)

    async def _take(self, body: dict[str, Any], event: dict[str, Any]) -> bool:
        """Never raises: a failure is logged and answered False (the attempt is supervised here)."""
        try:
            message = self.to_message(body, event)
            if message is not None:
                await self._submit(message)
            return True
        except Exception:
            log.exception("slack: could not take event %s; Slack will deliver it again", body.get("event_id"))
            return False


def _seconds(ts: str) -> float:
    try:
        return float(ts)
    except ValueError:
        return 0.0
