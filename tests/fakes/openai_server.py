"""A loopback fake of vLLM's OpenAI-compatible API (/v1/chat/completions, /v1/completions).

Mimics vLLM's wire details that clients trip over: `reasoning_content` (or `reasoning`) beside
`content`, SSE with a usage chunk and `data: [DONE]`, raw harmony completions whose text loses
its control tokens unless `skip_special_tokens` is false, and a 16-token default `max_tokens`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

from aiohttp import web
from openai_harmony import HarmonyEncoding

from ._base import (
    JSON,
    FakeServer,
    Reply,
    Responder,
    drop_connection,
    harmony_encoding,
    pieces,
)

__all__ = ["FakeOpenAI", "Reply", "harmony_text_for"]

_ERROR_TYPES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    404: "NotFoundError",
    429: "RateLimitError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}
_SPECIAL = re.compile(r"<\|[a-z_]+\|>")


def harmony_text_for(reply: Reply) -> str:
    """The raw completion gpt-oss would write after a prompt ending in `<|start|>assistant`."""
    if reply.harmony_text is not None:
        return reply.harmony_text
    analysis = (
        f"<|channel|>analysis<|message|>{reply.thinking}<|end|><|start|>assistant" if reply.thinking else ""
    )
    return f"{analysis}<|channel|>final<|message|>{reply.content}"


def _error(status: int, message: str) -> web.Response:
    err = {"message": message, "type": _ERROR_TYPES.get(status, "Error"), "param": None, "code": status}
    return _json({"error": err}, status)


def _json(data: JSON, status: int = 200) -> web.Response:
    # Starlette's JSONResponse: compact, UTF-8, plain application/json.
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, headers={"Content-Type": "application/json"})


def _sse(obj: JSON | str) -> bytes:
    payload = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


class FakeOpenAI(FakeServer):
    """`async with FakeOpenAI(responder, api_key=...) as fake:`; base URL is fake.url + "/v1"."""

    default_models = frozenset({"openai/gpt-oss-safeguard-120b"})

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        models: set[str] | frozenset[str] | None = None,
        slots: int | None = None,
        max_queue: int | None = None,
        api_key: str | None = None,
        encoding: HarmonyEncoding | None = None,
        busy_status: int = 503,
        max_model_len: int = 131072,
    ) -> None:
        super().__init__(responder, models=models, slots=slots, max_queue=max_queue)
        self.api_key = api_key
        self.encoding = encoding or harmony_encoding()
        self.busy_status = busy_status
        self.max_model_len = max_model_len
        self.prompts: list[list[int] | str] = []  # /v1/completions prompts as received

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self._chat),
            web.post("/v1/completions", self._completions),
            web.get("/v1/models", self._models),
            web.get("/health", self._health),
        ]

    def busy_response(self) -> web.Response:
        return _error(self.busy_status, "The server is overloaded; please retry later.")

    def decode_prompt(self, index: int = -1) -> str:
        """What the model saw for a /v1/completions request, control tokens included."""
        prompt = self.prompts[index]
        return prompt if isinstance(prompt, str) else self.encoding.decode(prompt)

    def _unauthorized(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.api_key}":
            return None
        return _error(401, "Unauthorized")

    def _model_or_error(self, body: JSON) -> tuple[str, web.Response | None]:
        model = body.get("model")
        if model is None:  # vLLM serves its first model when none is named
            return (sorted(self.models)[0] if self.models else ""), None
        if model not in self.models:
            return str(model), _error(404, f"The model `{model}` does not exist.")
        return model, None

    def _tokens(self, text: str) -> list[int]:
        ids: list[int] = self.encoding.encode(text, allowed_special="all")
        return ids

    # -- simple endpoints --------------------------------------------------------------------

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def _models(self, request: web.Request) -> web.Response:
        if (denied := self._unauthorized(request)) is not None:
            return denied
        now = int(time.time())
        data = [
            {
                "id": m,
                "object": "model",
                "created": now,
                "owned_by": "vllm",
                "root": m,
                "parent": None,
                "max_model_len": self.max_model_len,
            }
            for m in sorted(self.models)
        ]
        return _json({"object": "list", "data": data})

    # -- /v1/chat/completions ----------------------------------------------------------------

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, why = await self.read_body(request)
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if body is None:
            return _error(400, why)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "messages: Field required (a non-empty list)")
        model, problem = self._model_or_error(body)
        if problem is not None:
            return problem
        async with self.slot() as admitted:
            if not admitted:
                return self.busy_response()
            reply = await self._answer(body)
            if isinstance(reply, web.Response):
                return reply
            prompt = sum(len(self._tokens(str(m.get("content") or ""))) + 4 for m in messages)
            usage = _usage(reply, prompt, len(self._tokens(harmony_text_for(reply))))
            head = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": model}
            if body.get("stream"):
                opts = body.get("stream_options") or {}
                wants_usage = bool(isinstance(opts, dict) and opts.get("include_usage"))
                return await self._chat_stream(request, reply, head, usage if wants_usage else None)
            message: JSON = {
                "role": "assistant",
                "content": reply.content or None,
                reply.reasoning_field: reply.thinking or None,
                "tool_calls": [],
            }
            choice = {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.done_reason,
                "stop_reason": None,
            }
            data = head | {"object": "chat.completion", "choices": [choice], "usage": usage}
            if reply.cut_stream:
                return await self._cut_json(request, data)
            return _json(data)

    async def _answer(self, body: JSON) -> Reply | web.Response:
        """Ask the responder, wait its delay, and turn error/raw replies into responses."""
        reply = await self.reply_for(body)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.raw_body is not None:
            ctype = "text/event-stream; charset=utf-8" if body.get("stream") else "application/json"
            return web.Response(body=reply.raw_body, status=reply.status, headers={"Content-Type": ctype})
        if reply.error is not None or reply.status >= 400:
            return _error(
                reply.status if reply.status >= 400 else 500, reply.error or "Internal server error"
            )
        return reply

    async def _chat_stream(
        self, request: web.Request, reply: Reply, head: JSON, usage: JSON | None
    ) -> web.StreamResponse:
        head = head | {"object": "chat.completion.chunk"}
        deltas: list[JSON] = [{"role": "assistant", "content": ""}]
        deltas += [{reply.reasoning_field: p} for p in pieces(reply.thinking)]
        deltas += [{"content": p} for p in pieces(reply.content)]
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)
        for i, delta in enumerate(deltas):
            if i == max(1, len(deltas) // 2):
                if reply.cut_stream:
                    return await drop_connection(request)
                if reply.stream_error is not None:  # vLLM: an error event, then [DONE]
                    err = {
                        "message": reply.stream_error,
                        "type": "InternalServerError",
                        "param": None,
                        "code": 500,
                    }
                    await resp.write(_sse({"error": err}) + _sse("[DONE]"))
                    await resp.write_eof()
                    return resp
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
            await resp.write(_sse(head | {"choices": [choice]}))
            if reply.chunk_delay_s:
                await asyncio.sleep(reply.chunk_delay_s)
        if reply.cut_stream:  # too short to cut in the middle: cut before finish_reason
            return await drop_connection(request)
        last = {
            "index": 0,
            "delta": {},
            "logprobs": None,
            "finish_reason": reply.done_reason,
            "stop_reason": None,
        }
        await resp.write(_sse(head | {"choices": [last]}))
        if usage is not None:
            await resp.write(_sse(head | {"choices": [], "usage": usage}))
        await resp.write(_sse("[DONE]"))
        await resp.write_eof()
        return resp

    # -- /v1/completions (raw harmony) -------------------------------------------------------

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body, why = await self.read_body(request)
        if (denied := self._unauthorized(request)) is not None:
            return denied
        if body is None:
            return _error(400, why)
        model, problem = self._model_or_error(body)
        if problem is not None:
            return problem
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str | list):
            prompt = prompt[0]  # a batch of one
        if isinstance(prompt, str):
            prompt_ids = self._tokens(prompt)
        elif isinstance(prompt, list) and prompt and all(type(t) is int for t in prompt):
            prompt_ids = prompt
        else:
            return _error(400, "prompt must be a string or a non-empty list of token ids")
        self.prompts.append(prompt)
        if bad := [t for t in prompt_ids if not 0 <= t < 201088]:
            return _error(400, f"Token id {bad[0]} is out of vocabulary")
        max_tokens = body.get("max_tokens")
        max_tokens = 16 if max_tokens is None else max_tokens  # the OpenAI/vLLM default
        if not isinstance(max_tokens, int) or max_tokens < 1:
            return _error(400, "max_tokens must be at least 1")
        if len(prompt_ids) + max_tokens > self.max_model_len:
            return _error(
                400,
                f"This model's maximum context length is {self.max_model_len} "
                f"tokens. However, you requested {len(prompt_ids) + max_tokens} tokens "
                f"({len(prompt_ids)} in the messages, {max_tokens} in the completion). "
                "Please reduce the length of the messages or completion.",
            )
        if body.get("stream"):
            return _error(400, "streaming /v1/completions is not emulated by this fake")
        async with self.slot() as admitted:
            if not admitted:
                return self.busy_response()
            reply = await self._answer(body)
            if isinstance(reply, web.Response):
                return reply
            ids = self._tokens(harmony_text_for(reply))
            finish = reply.done_reason
            if len(ids) > max_tokens:  # the server stops at the budget, mid-word if need be
                ids, finish = ids[:max_tokens], "length"
            text = self.encoding.decode(ids)
            if body.get("skip_special_tokens", True):  # vLLM's default drops control tokens
                text = _SPECIAL.sub("", text)
            choice: JSON = {
                "index": 0,
                "text": text,
                "logprobs": None,
                "finish_reason": finish,
                "stop_reason": None,
            }
            if body.get("return_token_ids"):
                choice |= {"token_ids": ids, "prompt_token_ids": prompt_ids}
            data = {
                "id": f"cmpl-{uuid.uuid4().hex}",
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
                "usage": _usage(reply, len(prompt_ids), len(ids)),
            }
            if reply.cut_stream:
                return await self._cut_json(request, data)
            return _json(data)

    async def _cut_json(self, request: web.Request, data: JSON) -> web.StreamResponse:
        encoded = json.dumps(data).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(encoded)
        await resp.prepare(request)
        await resp.write(encoded[: len(encoded) // 2])
        return await drop_connection(request)


def _usage(reply: Reply, prompt: int, completion: int) -> JSON:
    p = reply.prompt_eval_count if reply.prompt_eval_count is not None else prompt
    c = reply.eval_count if reply.eval_count is not None else completion
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
