"""Ollama wire format for the benchmark emulator: the deterministic verdict and /api/chat replies.

Shapes follow ChatResponse in ../shared/specs/ollama-openapi.yaml (Ollama 0.12): one JSON body
when `stream` is false, NDJSON chunks (thinking, content, done) otherwise.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

__all__ = ["BUSY_MESSAGE", "TRIGGERS", "VERSION", "chat_reply", "decide", "json_response", "tokens"]

BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded"
VERSION = "0.12.6"
# Words that make the emulated model say "violation": arbitrary, but deterministic.
TRIGGERS = ("http", "www.", "free", "prize", "subscribe", "click")


def decide(text: str, low_confidence_share: float = 0.0) -> tuple[dict[str, Any], str]:
    """The verdict and thinking the emulated model gives for a user message (pure function)."""
    folded = text.casefold()
    hit = next((t for t in TRIGGERS if t in folded), None)
    # A stable share of messages come back unsure, so escalation paths can be exercised.
    unsure = zlib.crc32(text.encode()) / 0xFFFFFFFF < low_confidence_share
    verdict = {
        "violation": 1 if hit else 0,
        "policy_category": "spam" if hit else None,
        "rule_ids": ["S1"] if hit else [],
        "confidence": "low" if unsure else "high",
        "rationale": f"The message contains {hit!r}, which the policy treats as spam."
        if hit
        else "Ordinary conversation; no rule applies.",
    }
    thinking = "We need to check the message against the policy. " + (
        f"It contains {hit!r}; rule S1 applies." if hit else "No rule matches; it is allowed."
    )
    return verdict, thinking


def tokens(text: str) -> int:
    return max(1, len(text) // 4)  # ~4 characters per token is close enough for English


async def chat_reply(
    request: web.Request,
    body: dict[str, Any],
    verdict: dict[str, Any],
    thinking: str,
    prompt_tokens: int,
    total_ns: int,
) -> web.StreamResponse:
    """The /api/chat answer for one finished generation, streamed or whole as the client asked."""
    content = json.dumps(verdict)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if body.get("think") not in (None, False):  # Go's omitempty: no thinking field otherwise
        message["thinking"] = thinking
    head = {"model": body["model"], "created_at": datetime.now(UTC).isoformat()}
    final = head | {
        "done": True,
        "done_reason": "stop",
        "total_duration": total_ns,
        "load_duration": 0,
        "prompt_eval_count": prompt_tokens,
        "prompt_eval_duration": total_ns // 10,
        "eval_count": tokens(thinking + content),
        "eval_duration": total_ns * 9 // 10,
    }
    if body.get("stream") is False:
        return json_response(head | {"message": message} | final)
    # Streaming (Ollama's default): thinking, content, then the done chunk.
    resp = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await resp.prepare(request)
    role = {"role": "assistant"}
    if "thinking" in message:
        await resp.write(
            _line(head | {"message": role | {"content": "", "thinking": thinking}, "done": False})
        )
    await resp.write(_line(head | {"message": role | {"content": content}, "done": False}))
    await resp.write(_line(final | {"message": role | {"content": ""}}))
    await resp.write_eof()
    return resp


def json_response(data: dict[str, Any], status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=body, status=status, content_type="application/json", charset="utf-8")


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
