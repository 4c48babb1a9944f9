"""The fake Discord gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME, dispatch, shards.

Frames are JSON text (discord.py accepts uncompressed text frames even when it asked for
zlib/zstd streams). Each shard has at most one session, as on Discord: an IDENTIFY carries
`shard: [id, count]` (none = shard 0 of 1), and a new session of a shard replaces its old one.
Guild events go to the session of shard `(guild_id >> 22) % shard_count`, DMs to shard 0. Every
dispatch is numbered per session, so a RESUME after a dropped connection replays what the client
missed; a RESUME of a session that is gone gets INVALID_SESSION (the client identifies again).

The identify rate limit: with `identify_spacing_s` set, a second IDENTIFY in one bucket
(`shard_id % max_concurrency`) sooner than that is refused as Discord does, with close code 4008
("rate limited"); `refused` counts them. Off (0) by default, as one session never meets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord_server import FakeDiscord

JSON = dict[str, Any]
HELLO, IDENTIFY, HEARTBEAT, HEARTBEAT_ACK, RESUME, DISPATCH, INVALID_SESSION = 10, 2, 1, 11, 6, 0, 9
RATE_LIMITED = 4008
SPACING_SLACK_S = 0.1  # the client spaces its IDENTIFYs before sending: allow the send's own delay


@dataclass
class Session:
    shard: int
    ws: web.WebSocketResponse
    session_id: str
    seq: int = 0
    sent: list[JSON] = field(default_factory=list)  # every dispatch of this session, for RESUME


class Gateway:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.shard_count = 1
        self.max_concurrency = 1
        self.identify_spacing_s = 0.0
        self.sessions: dict[int, Session] = {}  # shard id -> its current session
        self.identified = asyncio.Event()  # set by every IDENTIFY or RESUME
        self.identifies = 0
        self.identifies_per_shard: dict[int, int] = {}
        self.refused = 0
        self.resumes = 0
        self.intents = 0
        self._last_identify: dict[int, float] = {}  # bucket -> monotonic time

    def shard_of(self, guild_id: str | int | None) -> int:
        return 0 if guild_id is None else (int(guild_id) >> 22) % self.shard_count

    def connected(self) -> set[int]:
        """Shards with a live session."""
        return {s for s, session in self.sessions.items() if not session.ws.closed}

    @property
    def ws(self) -> web.WebSocketResponse | None:
        found = self.sessions.get(0)
        return found.ws if found else None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on(ws, msg.json())
        finally:
            # A closed session is kept for a RESUME; `connected()` leaves it out.
            if any(s.ws is ws for s in self.sessions.values() if s.shard == 0):
                self.identified.clear()
            await self.fake.changed()
        return ws

    async def _on(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == HEARTBEAT:
            await ws.send_json({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(ws, data)
        elif op == RESUME:
            wanted = data.get("session_id")
            session = next((s for s in self.sessions.values() if s.session_id == wanted), None)
            if session is None:
                await ws.send_json({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
                return
            self.resumes += 1
            session.ws = ws
            for frame_ in [f for f in session.sent if f["s"] > int(data.get("seq") or 0)]:
                await ws.send_json(frame_)
            await self._dispatch_to(session, "RESUMED", {})
            self.identified.set()
            await self.fake.changed()

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        shard, count = data.get("shard") or [0, 1]
        bucket, now = shard % self.max_concurrency, time.monotonic()
        last = self._last_identify.get(bucket)
        too_soon = last is not None and now - last < self.identify_spacing_s - SPACING_SLACK_S
        if self.identify_spacing_s and too_soon:
            self.refused += 1
            await self.fake.changed()
            await ws.close(code=RATE_LIMITED, message=b"fake: identify rate limited")
            return
        if count != self.shard_count:
            await ws.close(code=4010, message=b"fake: invalid shard")  # Discord: "Invalid shard"
            return
        self._last_identify[bucket] = now
        self.identifies += 1
        self.identifies_per_shard[shard] = self.identifies_per_shard.get(shard, 0) + 1
        self.intents = int(data.get("intents", 0))
        old = self.sessions.get(shard)
        if old is not None and old.ws is not ws and not old.ws.closed:
            with contextlib.suppress(Exception):  # one session per shard: the new one wins
                await old.ws.close(code=4000, message=b"fake: replaced by a new session")
        session = self.sessions[shard] = Session(shard, ws, f"session-{self.identifies}")
        guilds = [g for g in self.fake.guilds.values() if self.shard_of(g.id) == shard]
        ready = self.fake.ready_payload(session.session_id, guilds, [shard, count])
        await self._dispatch_to(session, "READY", ready)
        for guild in guilds:
            await self._dispatch_to(session, "GUILD_CREATE", guild.payload())
        self.identified.set()
        await self.fake.changed()

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send an event to the shard it belongs to (a guild's, else shard 0's), as Discord routes it."""
        session = self.sessions.get(self.shard_of(data.get("guild_id")))
        if session is not None:
            await self._dispatch_to(session, event, data)

    async def _dispatch_to(self, session: Session, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.sent.append(frame)
        if not session.ws.closed:
            await session.ws.send_json(frame)

    async def drop(self, shard: int | None = None) -> None:
        """Close a shard's socket (every shard's by default) like a network failure would."""
        for found in list(self.sessions.values()):
            if shard is None or found.shard == shard:
                with contextlib.suppress(Exception):
                    await found.ws.close(code=4000, message=b"fake: dropped")
