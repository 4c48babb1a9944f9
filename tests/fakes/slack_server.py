"""A loopback fake of Slack: the Web API, response_url webhooks and the Socket Mode websocket.

Speaks the real wire protocol so the real slack_sdk / slack-bolt clients run against it:
`POST /api/<method>` with a Bearer token (JSON, form or query parameters), `{"ok": false,
"error": ...}` answers, 429 with Retry-After, `x-oauth-scopes` headers; `apps.connections.open`
hands out a ws:// URL where the fake says hello and waits for envelope acks. It refuses what
Slack refuses: another user's message deleted with a bot token (`cant_delete_message`), a post
where the bot is not a member (`not_in_channel`), more than 50 blocks or a section over 3000
characters (`invalid_blocks`), a trigger_id used twice (`exchanged_trigger_id`).
The driver side (sending events, commands and clicks) is in `slack_driver.py`; the Socket
Mode websocket in `slack_socket.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from tests.fakes.slack_socket import SocketMode

JSON = dict[str, Any]
TEAM, TEAM_NAME = "T1", "Acme"
BOT_USER, BOT_ID = "U0BOT", "B0BOT"
BOT_TOKEN, ADMIN_TOKEN, APP_TOKEN = "xoxb-test-bot", "xoxp-test-admin", "xapp-test-app"
SCOPES = (
    "chat:write,commands,channels:history,groups:history,channels:read,groups:read,users:read,"
    "im:write,usergroups:read"
)


@dataclass
class Call:
    method: str
    token: str
    params: JSON


@dataclass
class FakeSlack(SocketMode):
    users: dict[str, JSON] = field(default_factory=dict)
    channels: dict[str, JSON] = field(default_factory=dict)
    usergroups: list[JSON] = field(default_factory=list)
    messages: dict[tuple[str, str], JSON] = field(default_factory=dict)  # (channel, ts) -> message
    calls: list[Call] = field(default_factory=list)
    webhooks: list[tuple[str, JSON]] = field(default_factory=list)  # (response_url id, body)
    rate_limited: dict[str, list[int]] = field(default_factory=dict)  # method -> Retry-After values
    missing_scope: dict[str, str] = field(default_factory=dict)  # method -> the scope it needs
    # method -> how many answers to lose: the call takes effect, then the connection drops
    # (what a client timeout after Slack did the work looks like from the client)
    lose_answers: dict[str, int] = field(default_factory=dict)
    acks: dict[str, JSON] = field(default_factory=dict)  # envelope_id -> ack message
    url: str = ""
    scopes: str = SCOPES  # what the bot token was granted (the x-oauth-scopes header)

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._triggers: dict[str, bool] = {}  # trigger_id -> used
        self._sockets: list[web.WebSocketResponse] = []
        self._ack_waiters: dict[str, asyncio.Future[JSON]] = {}
        self._runner: web.AppRunner | None = None
        self.connections = 0
        self.add_user(BOT_USER, "modbot", bot=True)

    # -- the workspace ---------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, admin: bool = False, bot: bool = False) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM,
            "name": name,
            "is_admin": admin,
            "is_owner": False,
            "is_bot": bot,
            "profile": {"display_name": name},
        }

    def add_channel(self, channel_id: str, name: str, members: set[str], *, private: bool = False) -> None:
        self.channels[channel_id] = {
            "id": channel_id, "name": name, "members": set(members), "is_im": False, "is_private": private,
        }  # fmt: skip

    def next_ts(self) -> str:
        return f"1700000{next(self._ts):03d}.000100"

    def new_trigger(self) -> str:
        trigger = f"trig-{len(self._triggers) + 1}"
        self._triggers[trigger] = False
        return trigger

    def found(self, method: str, **params: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.params.get(k) == v for k, v in params.items())
        ]

    async def wait_for(self, check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        """Poll until `check()` is truthy; its value. Fails the test with what was seen."""
        async with asyncio.timeout(timeout_s):
            while not (value := check()):
                await asyncio.sleep(0.02)
        return value

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=2**20)
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/link", self._socket),
                web.post("/response/{rid}", self._webhook),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- response_url -----------------------------------------------------------------------

    def response_url(self, rid: str) -> str:
        return f"{self.url}/response/{rid}"

    async def _webhook(self, request: web.Request) -> web.Response:
        self.webhooks.append((request.match_info["rid"], await request.json()))
        return web.Response(text="ok")

    # -- the Web API ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: JSON = dict(request.query)
        if request.content_type == "application/json":
            params |= await request.json() or {}
        elif request.can_read_body:
            params |= dict(await request.post())
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or str(params.pop("token", ""))
        self.calls.append(Call(method, token, params))
        if self.rate_limited.get(method):
            retry_after = self.rate_limited[method].pop(0)
            return self._answer({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry_after)})
        if token not in (BOT_TOKEN, ADMIN_TOKEN, APP_TOKEN):
            return self._answer({"ok": False, "error": "invalid_auth"})
        if method in self.missing_scope:
            needed = self.missing_scope[method]
            return self._answer({"ok": False, "error": "missing_scope", "needed": needed, "provided": SCOPES})
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._answer({"ok": False, "error": "unknown_method"}, 404)
        answer = self._answer(handler(token, params))
        if self.lose_answers.get(method):
            self.lose_answers[method] -= 1
            if request.transport is not None:
                request.transport.close()  # done, but the client never hears so
        return answer

    def _answer(self, body: JSON, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            text=json.dumps(body),
            status=status,
            content_type="application/json",
            headers={"x-oauth-scopes": self.scopes, **(headers or {})},
        )

    def m_apps_connections_open(self, token: str, p: JSON) -> JSON:
        if token != APP_TOKEN:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/link"}

    def m_auth_test(self, token: str, p: JSON) -> JSON:
        user = BOT_USER if token == BOT_TOKEN else "U0ADMIN"
        return {
            "ok": True,
            "url": "https://acme.slack.com/",
            "team": TEAM_NAME,
            "team_id": TEAM,
            "user": "modbot",
            "user_id": user,
            "bot_id": BOT_ID if token == BOT_TOKEN else None,
        }

    def _bad_message(self, p: JSON) -> str:
        blocks = p.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if len(blocks) > 50:
            return "invalid_blocks"
        if len(str(p.get("text", ""))) > 40_000:
            return "msg_too_long"
        for block in blocks:
            texts = [block.get("text") or {}, *(block.get("fields") or [])]
            if any(len(str(t.get("text", ""))) > 3000 for t in texts if isinstance(t, dict)):
                return "invalid_blocks"
        return ""

    def _postable(self, channel: str) -> str:
        found = self.channels.get(channel)
        if found is None:
            return "channel_not_found"
        return "" if found["is_im"] or BOT_USER in found["members"] else "not_in_channel"

    def m_chat_postMessage(self, token: str, p: JSON) -> JSON:
        channel = str(p.get("channel", ""))
        if channel in self.users:  # a user id: the bot's DM with that person
            channel = str(self.m_conversations_open(token, {"users": channel})["channel"]["id"])
        error = self._postable(channel) or self._bad_message(p)
        if error:
            return {"ok": False, "error": error}
        ts = self.next_ts()
        self.messages[(channel, ts)] = {
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": p.get("text", ""),
            "blocks": p.get("blocks") or [],
            "ts": ts,
            **({"metadata": _json(p["metadata"])} if p.get("metadata") else {}),
        }
        return {"ok": True, "channel": channel, "ts": ts, "message": self.messages[(channel, ts)]}

    def m_chat_update(self, token: str, p: JSON) -> JSON:
        key = (str(p.get("channel", "")), str(p.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if self.messages[key].get("user") != BOT_USER:
            return {"ok": False, "error": "cant_update_message"}
        if error := self._bad_message(p):
            return {"ok": False, "error": error}
        self.messages[key] |= {"text": p.get("text", ""), "blocks": p.get("blocks") or []}
        if p.get("metadata"):
            self.messages[key]["metadata"] = _json(p["metadata"])
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def m_chat_delete(self, token: str, p: JSON) -> JSON:
        key = (str(p.get("channel", "")), str(p.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        if token != ADMIN_TOKEN and self.messages[key].get("user") != BOT_USER:
            return {"ok": False, "error": "cant_delete_message"}
        del self.messages[key]
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def m_chat_postEphemeral(self, token: str, p: JSON) -> JSON:
        error = self._postable(str(p.get("channel", ""))) or self._bad_message(p)
        return {"ok": False, "error": error} if error else {"ok": True, "message_ts": self.next_ts()}

    def m_chat_getPermalink(self, token: str, p: JSON) -> JSON:
        ts = str(p.get("message_ts", "")).replace(".", "")
        return {"ok": True, "permalink": f"https://acme.slack.com/archives/{p.get('channel')}/p{ts}"}

    def m_conversations_open(self, token: str, p: JSON) -> JSON:
        user = str(p.get("users", ""))
        channel = f"D{user}"
        self.channels.setdefault(
            channel,
            {"id": channel, "name": "", "members": {user, BOT_USER}, "is_im": True, "is_private": True},
        )
        return {"ok": True, "channel": {"id": channel}}

    def m_conversations_members(self, token: str, p: JSON) -> JSON:
        found = self.channels.get(str(p.get("channel", "")))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "members": sorted(found["members"]), "response_metadata": {"next_cursor": ""}}

    def m_conversations_info(self, token: str, p: JSON) -> JSON:
        found = self.channels.get(str(p.get("channel", "")))
        if found is None:
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {
                "id": found["id"], "name": found["name"], "is_member": BOT_USER in found["members"],
                "is_private": found["is_private"],
            },
        }  # fmt: skip

    def m_conversations_history(self, token: str, p: JSON) -> JSON:
        """Newest first, at most `limit`; metadata only with include_all_metadata."""
        channel = str(p.get("channel", ""))
        if error := self._postable(channel):
            return {"ok": False, "error": error}
        limit = min(int(p.get("limit") or 100), 999)
        metadata = str(p.get("include_all_metadata", "")).lower() in ("true", "1")
        found = [dict(m) for (c, _ts), m in reversed(self.messages.items()) if c == channel][:limit]
        if not metadata:
            for message in found:
                message.pop("metadata", None)
        return {"ok": True, "messages": found, "has_more": False}

    def m_conversations_list(self, token: str, p: JSON) -> JSON:
        listed = [{"id": c["id"], "name": c["name"]} for c in self.channels.values() if not c["is_im"]]
        return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}

    def m_users_info(self, token: str, p: JSON) -> JSON:
        user = self.users.get(str(p.get("user", "")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def m_usergroups_list(self, token: str, p: JSON) -> JSON:
        return {"ok": True, "usergroups": self.usergroups}

    def m_views_open(self, token: str, p: JSON) -> JSON:
        trigger = str(p.get("trigger_id", ""))
        if trigger not in self._triggers:
            return {"ok": False, "error": "invalid_trigger_id"}
        if self._triggers[trigger]:
            return {"ok": False, "error": "exchanged_trigger_id"}
        self._triggers[trigger] = True
        view = p.get("view") or {}
        return {"ok": True, "view": {**view, "id": f"V{len(self._triggers)}"}}

    def m_views_publish(self, token: str, p: JSON) -> JSON:
        return {"ok": True, "view": {**(p.get("view") or {}), "id": "VHOME"}}


def _json(value: Any) -> Any:
    """A JSON field as sent: an object in a JSON body, a string in a form."""
    return json.loads(value) if isinstance(value, str) else value
