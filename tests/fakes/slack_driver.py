"""Slack's side of a conversation with the bot: events, /modbot, clicks and modal submissions.

The same calls work over Socket Mode (envelopes on the fake's websocket, answered by acks)
and over HTTP (signed POSTs to the bot's /slack/events, answered by the HTTP response), so
one test can run in both modes. Payloads have the shapes Slack sends.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_server import TEAM, FakeSlack

JSON = dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """Slack's view of one request: the status (0: no ack at all) and the answer's body."""

    status: int
    body: JSON

    @property
    def text(self) -> str:
        blocks = json.dumps(self.body.get("blocks", []), ensure_ascii=False)
        return f"{self.body.get('text', '')}\n{blocks}"


class SlackDriver:
    def __init__(self, fake: FakeSlack, *, http_url: str = "", secret: str = "") -> None:
        self.fake = fake
        self.http_url = http_url  # empty: Socket Mode
        self.secret = secret
        self._ids = itertools.count(1)

    # -- transport -------------------------------------------------------------------------

    async def _http(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        signature: str | None = None,
        timestamp: int | None = None,
    ) -> Delivery:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self.sign(body, int(ts))
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
            **(headers or {}),
        }
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(self.http_url, data=body.encode(), headers=sent) as response,
        ):
            raw = await response.text()
            try:
                parsed = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                parsed = {"text": raw}
            return Delivery(response.status, parsed if isinstance(parsed, dict) else {"text": raw})

    async def _send(self, kind: str, payload: JSON, *, retry: int = 0) -> Delivery:
        if self.http_url:
            if kind == "events_api":
                headers = (
                    {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"} if retry else {}
                )
                return await self._http(json.dumps(payload), "application/json", headers)
            form = payload if kind == "slash_commands" else {"payload": json.dumps(payload)}
            return await self._http(urlencode(form), "application/x-www-form-urlencoded")
        ack = await self.fake.send_envelope(kind, payload, retry=retry)
        return Delivery(0, {}) if ack is None else Delivery(200, ack.get("payload") or {})

    async def raw_http(
        self, body: str, *, signature: str | None = None, timestamp: int | None = None
    ) -> Delivery:
        """A request signed as the caller says (a forgery, a replay)."""
        return await self._http(body, "application/json", signature=signature, timestamp=timestamp)

    def sign(self, body: str, timestamp: int) -> str:
        signature = SignatureVerifier(self.secret).generate_signature(timestamp=str(timestamp), body=body)
        assert signature is not None, "a signing secret is needed to sign"
        return signature

    # -- what members and moderators do ------------------------------------------------------

    def event_body(self, event: JSON, event_id: str = "") -> JSON:
        return {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):04d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
        }

    async def event(self, event: JSON, *, event_id: str = "", retry: int = 0) -> Delivery:
        return await self._send("events_api", self.event_body(event, event_id), retry=retry)

    async def say(self, user: str, channel: str, text: str, *, event_id: str = "") -> tuple[str, Delivery]:
        """A member posts in a channel; the message's ts and Slack's delivery of the event."""
        ts = self.fake.next_ts()
        self.fake.messages[(channel, ts)] = {"user": user, "text": text, "ts": ts}
        event = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "team": TEAM,
            "channel_type": "channel",
        }
        return ts, await self.event(event, event_id=event_id)

    async def command(self, user: str, text: str, channel: str = "C0GENERAL") -> Delivery:
        rid = f"cmd{next(self._ids)}"
        return await self._send(
            "slash_commands",
            {
                "token": "legacy",
                "team_id": TEAM,
                "team_domain": "acme",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user,
                "command": "/modbot",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.fake.response_url(rid),
                "trigger_id": self.fake.new_trigger(),
            },
        )

    async def click(
        self, user: str, action_id: str, value: str, channel: str, message_ts: str = ""
    ) -> Delivery:
        return await self._send(
            "interactive",
            {
                "type": "block_actions",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": user, "username": user, "team_id": TEAM},
                "api_app_id": "A1",
                "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
                "channel": {"id": channel},
                "message": {"ts": message_ts},
                "trigger_id": self.fake.new_trigger(),
                "response_url": self.fake.response_url(f"act{next(self._ids)}"),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b",
                        "value": value,
                        "action_ts": str(time.time()),
                    }
                ],
            },
        )

    async def submit(self, user: str, view: JSON, values: JSON) -> Delivery:
        """Submit a modal the bot opened, with `values` as {block_id: {action_id: text}}."""
        state = {
            block: {action: {"type": "plain_text_input", "value": text} for action, text in acts.items()}
            for block, acts in values.items()
        }
        return await self._send(
            "interactive",
            {
                "type": "view_submission",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": user, "username": user, "team_id": TEAM},
                "api_app_id": "A1",
                "view": {**view, "id": "V1", "team_id": TEAM, "state": {"values": state}},
            },
        )

    async def open_home(self, user: str) -> Delivery:
        return await self.event(
            {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}
        )
