"""The fake Discord gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch.

Frames are JSON text (discord.py accepts uncompressed text frames even when it asked for
zlib/zstd streams). One session at a time, like one shard; every dispatch is numbered so a
RESUME after a dropped connection replays what the client missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscord

JSON = dict[str, Any]
HELLO, IDENTIFY, HEARTBEAT, HEARTBEAT_ACK, RESUME, DISPATCH = 10, 2, 1, 11, 6, 0


class Gateway:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.ws: web.WebSocketResponse | None = None
        self.seq = 0
        self.sent: list[JSON] = []  # every dispatch of the current session, for RESUME
        self.identified = asyncio.Event()
        self.identifies = 0
        self.resumes = 0
        self.intents = 0
        self.session_id = "session-1"

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on(msg.json())
        finally:
            if self.ws is ws:
                self.ws = None
                self.identified.clear()
        return ws

    async def _on(self, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            await self._send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            self.identifies += 1
            self.intents = int(data.get("intents", 0))
            self.seq, self.sent = 0, []
            self.session_id = f"session-{self.identifies}"
            await self.dispatch("READY", self.fake.ready_payload(self.session_id))
            for guild in self.fake.guilds.values():
                await self.dispatch("GUILD_CREATE", guild.payload())
            self.identified.set()
        elif op == RESUME:
            self.resumes += 1
            missed = [f for f in self.sent if f["s"] > int(data.get("seq") or 0)]
            for frame_ in missed:
                await self._send(frame_)
            await self.dispatch("RESUMED", {})
            self.identified.set()

    async def dispatch(self, event: str, data: JSON) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.sent.append(frame)
        await self._send(frame)

    async def _send(self, frame: JSON) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.send_json(frame)

    async def drop(self) -> None:
        """Close the socket like a network failure would (the client resumes)."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close(code=4000, message=b"fake: dropped")
