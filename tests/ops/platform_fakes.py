"""Loopback fakes of the few Discord and Slack REST calls `modbot doctor` makes.

Discord answers `Content-Type: application/json` exactly, as the real API does; Slack reports
the token's scopes in the `x-oauth-scopes` header of every Web API answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes._base import FakeServer

MESSAGE_CONTENT = 1 << 18
VIEW, SEND, EMBED, HISTORY, MANAGE_MESSAGES = 1 << 10, 1 << 11, 1 << 14, 1 << 16, 1 << 13
MODERATE = 1 << 40
BOT_PERMS = VIEW | SEND | EMBED | HISTORY | MANAGE_MESSAGES | MODERATE


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, headers={"Content-Type": "application/json"})


@dataclass
class Guild:
    id: str
    mod_channel: str
    bot_role_perms: int = BOT_PERMS
    everyone_perms: int = VIEW | SEND
    overwrites: list[dict[str, Any]] = field(default_factory=list)  # on the mod channel


class FakeDiscordREST(FakeServer):
    """`/api/v10` of Discord for one bot user; base URL is fake.url + "/api/v10"."""

    def __init__(
        self, token: str, *, app_flags: int = MESSAGE_CONTENT, guilds: tuple[Guild, ...] = ()
    ) -> None:
        super().__init__()
        self.token = token
        self.app_flags = app_flags
        self.guilds = {g.id: g for g in guilds}
        self.bot_id = "1100000000000000001"

    @property
    def base(self) -> str:
        return self.url + "/api/v10"

    def routes(self) -> list[web.RouteDef]:
        p = "/api/v10"
        return [
            web.get(f"{p}/users/@me", self._me),
            web.get(f"{p}/applications/@me", self._app),
            web.get(f"{p}/guilds/{{gid}}", self._guild),
            web.get(f"{p}/guilds/{{gid}}/roles", self._roles),
            web.get(f"{p}/guilds/{{gid}}/members/{{uid}}", self._member),
            web.get(f"{p}/channels/{{cid}}", self._channel),
        ]

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") == f"Bot {self.token}":
            return None
        return _json({"message": "401: Unauthorized", "code": 0}, 401)

    async def _me(self, request: web.Request) -> web.Response:
        return self._denied(request) or _json({"id": self.bot_id, "username": "modbot", "bot": True})

    async def _app(self, request: web.Request) -> web.Response:
        return self._denied(request) or _json({"id": "42", "name": "modbot", "flags": self.app_flags})

    def _find(self, gid: str) -> Guild | None:
        return self.guilds.get(gid)

    async def _guild(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        guild = self._find(request.match_info["gid"])
        if guild is None:
            return _json({"message": "Unknown Guild", "code": 10004}, 404)
        return _json({"id": guild.id, "name": "test server", "owner_id": "9"})

    async def _roles(self, request: web.Request) -> web.Response:
        guild = self._find(request.match_info["gid"])
        assert guild is not None
        return _json(
            [
                {"id": guild.id, "name": "@everyone", "permissions": str(guild.everyone_perms)},
                {"id": "777", "name": "modbot", "permissions": str(guild.bot_role_perms)},
            ]
        )

    async def _member(self, request: web.Request) -> web.Response:
        return _json({"user": {"id": request.match_info["uid"]}, "roles": ["777"]})

    async def _channel(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        for guild in self.guilds.values():
            if guild.mod_channel == cid:
                return _json(
                    {"id": cid, "guild_id": guild.id, "name": "mod-queue", "type": 0,
                     "permission_overwrites": guild.overwrites}
                )  # fmt: skip
        return _json({"message": "Unknown Channel", "code": 10003}, 404)


class FakeSlackAPI(FakeServer):
    """auth.test and apps.connections.open; base URL is fake.url + "/api/" (trailing slash)."""

    def __init__(self, bot_token: str, scopes: set[str], app_token: str = "") -> None:
        super().__init__()
        self.bot_token = bot_token
        self.scopes = scopes
        self.app_token = app_token

    @property
    def base(self) -> str:
        return self.url + "/api/"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/auth.test", self._auth_test),
            web.post("/api/apps.connections.open", self._open),
        ]

    def _answer(self, data: dict[str, Any], scopes: set[str] | None = None) -> web.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if scopes is not None:
            headers["x-oauth-scopes"] = ",".join(sorted(scopes))
        return web.Response(text=json.dumps(data), headers=headers)

    async def _auth_test(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return self._answer({"ok": False, "error": "invalid_auth"})
        return self._answer(
            {
                "ok": True,
                "team": "Test Team",
                "user": "modbot",
                "team_id": "T1",
                "user_id": "U1",
                "bot_id": "B1",
            },
            self.scopes,
        )

    async def _open(self, request: web.Request) -> web.Response:
        if not self.app_token or request.headers.get("Authorization") != f"Bearer {self.app_token}":
            return self._answer({"ok": False, "error": "invalid_auth"})
        return self._answer({"ok": True, "url": "wss://127.0.0.1/link/?ticket=t"})
