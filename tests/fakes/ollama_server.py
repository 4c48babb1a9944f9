"""A loopback fake of Ollama's HTTP API (/api/chat, /api/tags, /api/show, /api/version).

Speaks the wire format of Ollama 0.12: NDJSON streaming by default, `{"error": "..."}` bodies
with the real status codes and messages, 404 for models that were never pulled.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from ._base import (
    JSON,
    FakeServer,
    Reply,
    Responder,
    drop_connection,
    estimate_tokens,
    now_iso,
    pieces,
)

__all__ = ["BUSY_MESSAGE", "FakeOllama", "Reply"]

BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"
VERSION = "0.12.6"


def _canonical(name: str) -> str:
    # Ollama treats a name without a tag as name:latest.
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


def _json(data: JSON, status: int = 200) -> web.Response:
    # Go's encoder (gin) does not escape non-ASCII; neither do we.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json", charset="utf-8")


class FakeOllama(FakeServer):
    """`async with FakeOllama(responder) as fake:` then point ollama.AsyncClient at fake.url."""

    default_models = frozenset({"gpt-oss-safeguard:20b"})

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        models: set[str] | frozenset[str] | None = None,
        slots: int | None = None,
        max_queue: int | None = None,
        version: str = VERSION,
        context_length: int = 131072,
    ) -> None:
        super().__init__(responder, models=models, slots=slots, max_queue=max_queue)
        self.version = version
        self.context_length = context_length  # /api/show's model_info, as `modbot doctor` reads it

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/chat", self._chat),
            web.get("/api/tags", self._tags),
            web.post("/api/show", self._show),
            web.get("/api/version", self._version),
            web.get("/", self._root),
        ]

    def busy_response(self) -> web.Response:
        return _error(503, BUSY_MESSAGE)

    def knows(self, model: str) -> bool:
        return _canonical(model) in {_canonical(m) for m in self.models}

    # -- metadata endpoints ------------------------------------------------------------------

    async def _root(self, _request: web.Request) -> web.Response:
        return web.Response(text="Ollama is running")

    async def _version(self, _request: web.Request) -> web.Response:
        return _json({"version": self.version})

    async def _tags(self, _request: web.Request) -> web.Response:
        models = [
            {
                "name": _canonical(m),
                "model": _canonical(m),
                "modified_at": now_iso(),
                "size": 13_780_173_839,
                "digest": "f" * 64,
                "details": _details(),
            }
            for m in sorted(self.models)
        ]
        return _json({"models": models})

    async def _show(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "invalid request body")
        name = (body.get("model") or body.get("name") or "") if isinstance(body, dict) else ""
        if not name:
            return _error(400, "model is required")
        if not self.knows(name):
            return _error(404, f"model '{name}' not found")
        return _json(
            {
                "modelfile": f"FROM {_canonical(name)}\n",
                "parameters": "temperature 1",
                "template": "{{ .Prompt }}",
                "details": _details(),
                "model_info": {
                    "general.architecture": "gptoss",
                    "gptoss.context_length": self.context_length,
                },
                "capabilities": ["completion", "tools", "thinking"],
                "modified_at": now_iso(),
            }
        )

    # -- /api/chat ---------------------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic_ns()
        body, why = await self.read_body(request)
        if body is None:
            return _error(400, why)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "model is required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return _error(400, "messages is required and must be a list of messages")
        if not self.knows(model):
            return _error(404, f'model "{model}" not found, try pulling it first')
        stream = body.get("stream")
        stream = True if stream is None else bool(stream)  # Ollama streams unless told not to
        async with self.slot() as admitted:
            if not admitted:
                return self.busy_response()
            reply = await self.reply_for(body)
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
            if reply.raw_body is not None:
                ctype = "application/x-ndjson" if stream else "application/json; charset=utf-8"
                return web.Response(body=reply.raw_body, status=reply.status, headers={"Content-Type": ctype})
            if reply.error is not None or reply.status >= 400:
                status = reply.status if reply.status >= 400 else 500
                return _error(status, reply.error or "internal server error")
            prompt_text = "".join(str(m.get("content") or "") for m in messages)
            final = self._final_fields(model, reply, started, prompt_text)
            if not stream:
                return await self._whole(request, reply, final)
            return await self._stream(request, model, reply, final)

    def _final_fields(self, model: str, reply: Reply, started: int, prompt: str) -> JSON:
        total = max(time.monotonic_ns() - started, 1_000_000)
        return {
            "model": model,
            "created_at": now_iso(),
            "done": True,
            "done_reason": reply.done_reason,
            "total_duration": total,
            "load_duration": total // 10,
            "prompt_eval_count": reply.prompt_eval_count
            if reply.prompt_eval_count is not None
            else estimate_tokens(prompt),
            "prompt_eval_duration": total // 5,
            "eval_count": reply.eval_count
            if reply.eval_count is not None
            else estimate_tokens(reply.thinking + reply.content),
            "eval_duration": total // 2,
        }

    async def _whole(self, request: web.Request, reply: Reply, final: JSON) -> web.StreamResponse:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.thinking:  # Go's omitempty: absent rather than ""
            message["thinking"] = reply.thinking
        data = {"model": final["model"], "created_at": final["created_at"], "message": message}
        data |= {k: v for k, v in final.items() if k not in data}
        if not reply.cut_stream:
            return _json(data)
        encoded = json.dumps(data).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json; charset=utf-8"})
        resp.content_length = len(encoded)
        await resp.prepare(request)
        await resp.write(encoded[: len(encoded) // 2])
        return await drop_connection(request)

    async def _stream(
        self, request: web.Request, model: str, reply: Reply, final: JSON
    ) -> web.StreamResponse:
        chunks: list[JSON] = [
            {"role": "assistant", "content": "", "thinking": p} for p in pieces(reply.thinking)
        ]
        chunks += [{"role": "assistant", "content": p} for p in pieces(reply.content)]
        resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await resp.prepare(request)
        for i in range(len(chunks) + 1):
            if i == len(chunks) // 2:  # trouble strikes halfway (before the done chunk if empty)
                if reply.cut_stream:
                    return await drop_connection(request)
                if reply.stream_error is not None:  # how Ollama reports a failure mid-stream
                    await resp.write(_line({"error": reply.stream_error}))
                    await resp.write_eof()
                    return resp
            if i == len(chunks):
                break
            line = {"model": model, "created_at": now_iso(), "message": chunks[i], "done": False}
            await resp.write(_line(line))
            if reply.chunk_delay_s:
                await asyncio.sleep(reply.chunk_delay_s)
        last: JSON = {"model": model, "created_at": now_iso()}
        last |= {"message": {"role": "assistant", "content": ""}}
        last |= {k: v for k, v in final.items() if k not in last}
        await resp.write(_line(last))
        await resp.write_eof()
        return resp


def _line(obj: JSON) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _details() -> JSON:
    return {
        "parent_model": "",
        "format": "gguf",
        "family": "gptoss",
        "families": ["gptoss"],
        "parameter_size": "20.9B",
        "quantization_level": "MXFP4",
    }
