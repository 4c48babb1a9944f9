"""A fake Discord (REST API v10 + gateway) on 127.0.0.1, for the real discord.py client.

It keeps the state a test asserts on (messages, cards, DMs, deletions, timeouts, synced
commands, interaction replies), logs every request, and refuses what Discord refuses: a
second callback to one interaction, oversize payloads (400), a missing permission (403,
when a test forbids an operation), and answers 429 with `Via` when a test asks for it.
Drive it with `tests/fakes/discord_driver.py` (members' messages, clicks, commands).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from tests.fakes.discord_gateway import Gateway
from tests.fakes.discord_limits import command_problems, message_problems, modal_problems
from tests.fakes.discord_payloads import (
    FakeGuild,
    FakeUser,
    Snowflakes,
    interaction_message,
    message,
    now_iso,
    read_body,
)

JSON = dict[str, Any]
BODY: web.RequestKey[Any] = web.RequestKey("body", object)  # a JSON body, any shape
JSON_TYPE = "application/json"  # exactly: discord.py compares the header to this string


@dataclass
class Request:
    method: str
    path: str
    body: Any  # the JSON body (an object, or a list for command syncs), or None
    status: int = 200


@dataclass
class Interaction:
    id: str
    token: str
    payload: JSON
    callbacks: list[JSON] = field(default_factory=list)
    original: JSON | None = None  # the response message, as last edited
    followups: list[JSON] = field(default_factory=list)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Set the header by hand: `content_type=` would add "; charset=utf-8", which discord.py rejects.
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": JSON_TYPE, **(headers or {})})  # fmt: skip


def error(status: int, code: int, text: str) -> web.Response:
    return reply({"message": text, "code": code}, status)


class FakeDiscord:
    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.app_id = "901"
        self.bot = FakeUser("900", "modbot", bot=True, roles=["800"])
        self.guilds: dict[str, FakeGuild] = {}
        self.messages: dict[str, JSON] = {}  # every message by id, in every channel
        self.deleted: list[str] = []
        self.timeouts: dict[str, str] = {}  # user id -> communication_disabled_until
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        self.closed_dms: set[str] = set()
        self.forbidden: set[str] = set()  # "send", "delete", "timeout": answered 403
        self.rate_limits: list[tuple[str, str]] = []  # (method, path prefix): one 429 each
        self.commands: list[JSON] = []
        self.files: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self.interactions: dict[str, Interaction] = {}
        self.message_content_flag = True  # the portal's Message Content switch
        self.token = "fake-token"  # REST calls without "Bot <token>" get a 401
        self.gateway = Gateway(self)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v10"

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._record], client_max_size=32 * 1024 * 1024)
        app.add_routes(self._routes())
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gateway.drop()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, check: Callable[[], Any], wait_s: float = 10.0) -> Any:
        """Wait until `check()` is truthy (re-checked after every request and event)."""
        async with asyncio.timeout(wait_s), self._changed:
            while not (result := check()):
                await self._changed.wait()
            return result

    async def changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- what tests read ---------------------------------------------------------------------

    def ready_payload(self, session_id: str, guilds: list[FakeGuild], shard: list[int]) -> JSON:
        return {
            "v": 10, "user": self.bot.user(), "session_id": session_id, "shard": shard,
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "guilds": [{"id": g.id, "unavailable": True} for g in guilds],
            "application": {"id": self.app_id, "flags": self._app_flags()},
        }  # fmt: skip

    def _app_flags(self) -> int:
        return (1 << 19) if self.message_content_flag else 0

    def channel_messages(self, channel_id: str) -> list[JSON]:
        return [m for m in self.messages.values() if m["channel_id"] == channel_id]

    def dms(self, user_id: str) -> list[JSON]:
        channel = self.dm_channels.get(user_id)
        return self.channel_messages(channel) if channel else []

    def calls(self, method: str, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # -- REST --------------------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path.removeprefix("/api/v10")
        body = await read_body(request) if request.can_read_body else None
        request[BODY] = body
        entry = Request(request.method, path, body)
        self.requests.append(entry)
        needs_token = (
            request.path.startswith("/api/") and "/interactions/" not in path and "/webhooks/" not in path
        )
        if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
            entry.status = 401
            return reply({"message": "401: Unauthorized", "code": 0}, 401)
        for n, (method, prefix) in enumerate(self.rate_limits):
            if method == request.method and path.startswith(prefix):
                del self.rate_limits[n]
                entry.status = 429
                headers = {"Via": "1.1 google", "Retry-After": "1", "X-RateLimit-Scope": "user"}
                limited = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
                return reply(limited, 429, headers)
        try:
            response = await handler(request)
        finally:
            await self.changed()
        entry.status = response.status
        return response

    def _routes(self) -> list[web.RouteDef]:
        api = "/api/v10"
        return [
            web.get("/gateway", self.gateway.handle),
            web.get(f"{api}/users/@me", self._me),
            web.get(f"{api}/oauth2/applications/@me", self._application),  # discord.py's application_info
            web.get(f"{api}/applications/@me", self._application),  # modbot doctor's check
            web.get(f"{api}/gateway/bot", self._gateway_bot),
            web.post(f"{api}/channels/{{cid}}/messages", self._send),
            web.patch(f"{api}/channels/{{cid}}/messages/{{mid}}", self._edit),
            web.delete(f"{api}/channels/{{cid}}/messages/{{mid}}", self._delete),
            web.patch(f"{api}/guilds/{{gid}}/members/{{uid}}", self._member),
            web.post(f"{api}/users/@me/channels", self._open_dm),
            web.get(f"{api}/applications/{{app}}/commands", self._get_commands),
            web.put(f"{api}/applications/{{app}}/commands", self._put_commands),
            web.post(f"{api}/interactions/{{iid}}/{{token}}/callback", self._callback),
            web.patch(f"{api}/webhooks/{{app}}/{{token}}/messages/@original", self._edit_original),
            web.post(f"{api}/webhooks/{{app}}/{{token}}", self._followup),
            web.get("/attachments/{aid}/{name}", self._attachment),
        ]

    async def _me(self, _request: web.Request) -> web.Response:
        return reply(self.bot.user())

    async def _get_commands(self, _request: web.Request) -> web.Response:
        return reply(self.commands)

    async def _application(self, _request: web.Request) -> web.Response:
        return reply({
            "id": self.app_id, "name": "modbot", "description": "", "icon": None, "rpc_origins": [],
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None},
            "team": None, "flags": self._app_flags(), "summary": "",
        })  # fmt: skip

    async def _gateway_bot(self, _request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0,
                 "max_concurrency": self.gateway.max_concurrency}  # fmt: skip
        url = f"ws://127.0.0.1:{self.port}/gateway"
        return reply({"url": url, "shards": self.gateway.shard_count, "session_start_limit": limit})

    async def _send(self, request: web.Request) -> web.Response:
        cid, body = request.match_info["cid"], request[BODY] or {}
        if problems := message_problems(body):
            return error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        if cid in self.dm_channels.values():
            user = next(u for u, c in self.dm_channels.items() if c == cid)
            if user in self.closed_dms:
                return error(403, 50007, "Cannot send messages to this user")
        elif "send" in self.forbidden:
            return error(403, 50013, "Missing Permissions")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for existing in self.channel_messages(cid):
                if existing.get("nonce") == str(nonce):
                    return reply(existing)  # Discord returns the first message for the nonce
        guild = next((g.id for g in self.guilds.values() if cid in g.channels), None)
        data = message(self.ids(), cid, self.bot, body.get("content") or "", guild_id=guild,
                       nonce=str(nonce) if nonce is not None else None, embeds=body.get("embeds"),
                       components=body.get("components"))  # fmt: skip
        self.messages[data["id"]] = data
        return reply(data)

    async def _edit(self, request: web.Request) -> web.Response:
        mid, body = request.match_info["mid"], request[BODY] or {}
        found = self.messages.get(mid)
        if found is None:
            return error(404, 10008, "Unknown Message")
        if problems := message_problems(body):
            return error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        if "send" in self.forbidden:
            return error(403, 50013, "Missing Permissions")
        for key in ("content", "embeds", "components"):
            if key in body:
                found[key] = body[key]
        found["edited_timestamp"] = now_iso()
        return reply(found)

    async def _delete(self, request: web.Request) -> web.Response:
        if "delete" in self.forbidden:
            return error(403, 50013, "Missing Permissions")
        mid = request.match_info["mid"]
        if self.messages.pop(mid, None) is None:
            return error(404, 10008, "Unknown Message")
        self.deleted.append(mid)
        return web.Response(status=204)

    async def _member(self, request: web.Request) -> web.Response:
        if "timeout" in self.forbidden:
            return error(403, 50013, "Missing Permissions")
        uid, body = request.match_info["uid"], request[BODY] or {}
        guild = self.guilds.get(request.match_info["gid"])
        if guild is None or uid not in guild.members:
            return error(404, 10007, "Unknown Member")
        if "communication_disabled_until" in body:
            self.timeouts[uid] = body["communication_disabled_until"]
        data = guild.members[uid].member()
        data["communication_disabled_until"] = body.get("communication_disabled_until")
        return reply(data)

    async def _open_dm(self, request: web.Request) -> web.Response:
        uid = str((request[BODY] or {}).get("recipient_id"))
        channel = self.dm_channels.setdefault(uid, self.ids())
        user = next((g.members[uid] for g in self.guilds.values() if uid in g.members), None)
        recipients = [user.user()] if user else []
        return reply({"id": channel, "type": 1, "recipients": recipients, "last_message_id": None})

    async def _put_commands(self, request: web.Request) -> web.Response:
        body = request[BODY] or []
        if problems := command_problems(body):
            return error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        self.commands = [
            {**command, "id": self.ids(), "application_id": self.app_id, "version": "1"} for command in body
        ]
        return reply(self.commands)

    async def _callback(self, request: web.Request) -> web.Response:
        found = self.interactions.get(request.match_info["iid"])
        if found is None or found.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        if found.callbacks:
            return error(400, 40060, "Interaction has already been acknowledged.")
        body = request[BODY] or {}
        kind, data = body.get("type"), body.get("data") or {}
        problems = modal_problems(data) if kind == 9 else message_problems(data) if kind in (4, 7) else []
        if kind == 8 and len(data.get("choices") or []) > 25:
            problems.append("autocomplete: at most 25 choices")
        if problems:
            return error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        found.callbacks.append(body)
        if kind == 4:
            found.original = {"id": self.ids(), **data}
        elif kind == 7 and found.payload.get("message"):
            self._apply_update(found.payload["message"]["id"], data)
        result = {
            "interaction": {"id": found.id, "type": found.payload["type"],
                            "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool((data.get("flags") or 0) & 64)},
            "resource": {"type": kind},
        }  # fmt: skip
        return reply(result)

    def _apply_update(self, message_id: str, data: JSON) -> None:
        if (found := self.messages.get(message_id)) is not None:
            found.update({k: data[k] for k in ("content", "embeds", "components") if k in data})

    def _by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _webhook(self, request: web.Request) -> tuple[Interaction, dict[str, Any]] | web.Response:
        """The answered interaction a webhook call names, and its valid body; or Discord's error."""
        found = self._by_token(request.match_info["token"])
        if found is None or not found.callbacks:
            return error(404, 10015, "Unknown Webhook")
        body = request[BODY] or {}
        if problems := message_problems(body):
            return error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        return found, body

    async def _edit_original(self, request: web.Request) -> web.Response:
        checked = self._webhook(request)
        if isinstance(checked, web.Response):
            return checked
        found, body = checked
        if found.callbacks[0].get("type") == 6 and found.payload.get("message"):
            self._apply_update(found.payload["message"]["id"], body)  # deferred update: the card
            return reply(self.messages.get(found.payload["message"]["id"], {}))
        found.original = {**(found.original or {"id": self.ids()}), **body}
        return reply(interaction_message(found.original, found.payload))

    async def _followup(self, request: web.Request) -> web.Response:
        checked = self._webhook(request)
        if isinstance(checked, web.Response):
            return checked
        found, body = checked
        sent = {"id": self.ids(), **body}
        found.followups.append(sent)
        return reply(interaction_message(sent, found.payload))

    async def _attachment(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["aid"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")
