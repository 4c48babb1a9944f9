"""Shared plumbing for the loopback model-server fakes: scripting, slots, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import re
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from aiohttp import web
from openai_harmony import HarmonyEncoding, HarmonyEncodingName, load_harmony_encoding

JSON = dict[str, Any]


def verdict_json(
    violation: int,
    rule_ids: tuple[str, ...] | list[str] = (),
    confidence: str = "high",
    rationale: str = "No rule applies to this message.",
    category: str | None = None,
) -> str:
    """The model's final answer, in the shape bot/core/prompt.py asks for."""
    return json.dumps(
        {
            "violation": violation,
            "policy_category": category,
            "rule_ids": list(rule_ids),
            "confidence": confidence,
            "rationale": rationale,
        }
    )


@dataclass
class Reply:
    """What the fake answers to one generation request. Fields not used by a protocol are ignored.

    eval_count / prompt_eval_count double as OpenAI usage completion_tokens / prompt_tokens;
    None means "estimate" (OpenAI fake: exact harmony token counts where it can).
    """

    content: str = field(default_factory=lambda: verdict_json(0))
    thinking: str = ""
    status: int = 200
    error: str | None = None  # set (or status >= 400) -> protocol-shaped error body
    delay_s: float = 0.0  # sleep before answering, while holding a slot
    done_reason: str = "stop"  # "stop" | "length" (finish_reason on the OpenAI side)
    chunk_delay_s: float = 0.0  # sleep between streamed chunks
    cut_stream: bool = False  # drop the connection halfway, without the final chunk / body end
    raw_body: bytes | None = None  # sent verbatim with `status`, for malformed-response tests
    eval_count: int | None = None
    prompt_eval_count: int | None = None
    stream_error: str | None = None  # streamed error event after the first chunks (HTTP 200)
    # OpenAI-compatible fake only
    reasoning_field: str = "reasoning_content"  # some vLLM versions say "reasoning"
    harmony_text: str | None = None  # /v1/completions text; None -> built from thinking+content


Responder = Callable[[JSON], "Reply | str | Awaitable[Reply | str]"]


def default_responder(_body: JSON) -> Reply:
    return Reply(
        content=verdict_json(0, rationale="Ordinary conversation; no rule applies."),
        thinking="The message is ordinary conversation. No rule in the policy applies.",
    )


def pieces(text: str) -> list[str]:
    """Split like a tokenizer would, roughly: words with their leading whitespace."""
    return re.findall(r"\s*\S+|\s+", text)


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


@functools.cache
def harmony_encoding() -> HarmonyEncoding:
    """The gpt-oss encoding, loaded offline once per process (about half a second)."""
    from bot.core.tokens import ensure_encoding_files

    ensure_encoding_files(Path(tempfile.gettempdir()) / "modbot-fakes-tiktoken")
    return load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)


class DroppedConnection(asyncio.CancelledError):
    """Raised by drop_connection; CancelledError so aiohttp ends the handler without a fuss."""


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without ending the body, as a crashed server would."""
    if request.transport is not None:
        request.transport.close()
    # Raising (rather than returning) stops aiohttp from trying to finish the response.
    raise DroppedConnection


class FakeServer:
    """Base: a loopback aiohttp app with request recording and slot emulation."""

    default_models: frozenset[str] = frozenset()

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        models: set[str] | frozenset[str] | None = None,
        slots: int | None = None,
        max_queue: int | None = None,
    ) -> None:
        self.responder: Responder = responder or default_responder
        self.models: set[str] = set(self.default_models if models is None else models)
        self.slots = slots
        self.max_queue = max_queue  # only meaningful with slots: beyond slots+max_queue -> busy
        self.requests: list[JSON] = []  # generation requests only, in arrival order
        self.request_headers: list[dict[str, str]] = []  # aligned with requests
        self.paths: list[str] = []  # aligned with requests
        self.hits: list[str] = []  # every request, "METHOD /path"
        self.active = 0  # requests holding a slot now
        self.peak_active = 0
        self.pending = 0  # waiting for or holding a slot
        self.busy_rejections = 0
        self.cancelled = 0  # handlers cancelled, e.g. the client hung up mid-request
        self.url = ""
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._sem: asyncio.Semaphore | None = None

    # -- subclass hooks ----------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def busy_response(self) -> web.Response:
        raise NotImplementedError

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        @web.middleware
        async def record_hit(request: web.Request, handler: Any) -> web.StreamResponse:
            self.hits.append(f"{request.method} {request.path}")
            return await handler(request)

        self._sem = asyncio.Semaphore(self.slots) if self.slots else None
        app = web.Application(middlewares=[record_hit])
        app.add_routes(self.routes())
        # handler_cancellation: a client that hangs up frees its slot, as real servers do.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        # Started again after stop(): the same port, as a server that was restarted.
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the port the OS picked for port 0
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[Self]:
        """Serve from a daemon thread's own loop, for sync code that calls asyncio.run itself."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=type(self).__name__, daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=10)
            yield self
        finally:
            try:
                asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=10)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
                loop.close()

    # -- helpers for subclasses --------------------------------------------------------------

    async def read_body(self, request: web.Request) -> tuple[JSON | None, str]:
        """Parse and record a generation request; (None, why) when the body is not a JSON object."""
        raw = await request.text()
        self.paths.append(request.path)
        self.request_headers.append(dict(request.headers))
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError as exc:
            self.requests.append({"_invalid_json": raw})
            return None, f"invalid JSON: {exc}"
        self.requests.append(body if isinstance(body, dict) else {"_not_an_object": body})
        if body is None:
            return None, "missing request body"
        if not isinstance(body, dict):
            return None, "request body must be a JSON object"
        return body, ""

    async def reply_for(self, body: JSON) -> Reply:
        got = self.responder(body)
        if inspect.isawaitable(got):
            got = await got
        return Reply(content=got) if isinstance(got, str) else got

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """Yields False when the queue is full (answer busy), else True while holding a slot."""
        limit = None if not self.slots or self.max_queue is None else self.slots + self.max_queue
        if limit is not None and self.pending >= limit:
            self.busy_rejections += 1
            yield False
            return
        self.pending += 1
        try:
            async with self._sem or contextlib.nullcontext():
                self.active += 1
                self.peak_active = max(self.peak_active, self.active)
                try:
                    yield True
                finally:
                    self.active -= 1
        except asyncio.CancelledError as exc:
            if not isinstance(exc, DroppedConnection):
                self.cancelled += 1
            raise
        finally:
            self.pending -= 1
