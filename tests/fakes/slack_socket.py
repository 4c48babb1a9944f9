"""The Socket Mode side of the fake Slack: the websocket the app connects to, envelopes and acks.

A mixin of `FakeSlack` (slack_server.py), kept apart so each file stays small: Slack says
hello on connect, sends envelopes and waits for the app's ack of each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

JSON = dict[str, Any]


class SocketMode:
    acks: dict[str, JSON]
    connections: int
    _ts: itertools.count[int]
    _sockets: list[web.WebSocketResponse]
    _ack_waiters: dict[str, asyncio.Future[JSON]]

    async def wait_for(self, check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        raise NotImplementedError  # FakeSlack polls; declared here for the type checker

    # -- Socket Mode ------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "fake", "approximate_connection_time": 3600},
            }
        )
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                envelope = str(data.get("envelope_id", ""))
                self.acks[envelope] = data
                waiter = self._ack_waiters.pop(envelope, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    async def send_envelope(
        self, kind: str, payload: JSON, *, retry: int = 0, timeout_s: float = 5.0
    ) -> JSON | None:
        """Send one envelope to the connected app; its ack, or None when none came in time."""
        await self.wait_for(lambda: self._sockets, timeout_s)
        envelope_id = f"env-{len(self.acks) + len(self._ack_waiters) + 1}-{next(self._ts)}"
        waiter: asyncio.Future[JSON] = asyncio.get_running_loop().create_future()
        self._ack_waiters[envelope_id] = waiter
        body: JSON = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            body |= {"retry_attempt": retry, "retry_reason": "timeout" if retry else ""}
        await self._sockets[-1].send_json(body)
        try:
            return await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            self._ack_waiters.pop(envelope_id, None)
            return None
