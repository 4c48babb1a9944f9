"""Tier 2: gpt-oss-safeguard-120b behind an OpenAI-compatible server (vLLM and friends).

Two modes: `chat` posts /v1/chat/completions and lets the server apply the chat template;
`completions` renders harmony ourselves (openai-harmony) and posts token ids to
/v1/completions, for servers whose chat template or reasoning parser misbehaves.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from bot.core.classifier.base import ModelCallError, ModelTier, RawAnswer
from bot.core.classifier.harmony import HarmonyCodec
from bot.core.policies import Policy
from bot.core.prompt import OUTPUT_SCHEMA, build_chat
from bot.core.redact import redact


@dataclass(frozen=True, slots=True)
class OpenAISettings:
    base_url: str  # e.g. https://gpu.example.org (with or without /v1)
    model: str = "openai/gpt-oss-safeguard-120b"
    api_key: SecretStr = field(default_factory=lambda: SecretStr(""))
    mode: Literal["chat", "completions"] = "chat"
    timeout_s: float = 120.0
    connect_timeout_s: float = 5.0
    max_tokens: int = 2048
    stream: bool = False
    json_schema: bool = True  # send response_format (vLLM structured outputs)


class OpenAICompatTier(ModelTier):
    tier = 2

    def __init__(self, settings: OpenAISettings, harmony: HarmonyCodec | None = None) -> None:
        if settings.mode == "completions" and harmony is None:
            raise ValueError("completions mode needs a HarmonyCodec")
        self.settings = settings
        self.model = settings.model
        self._harmony = harmony
        base = settings.base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        headers = {"Accept": "application/json"}
        key = settings.api_key.get_secret_value()
        if key:
            headers["Authorization"] = f"Bearer {key}"
            self.secrets = (key,)
        self._http = httpx.AsyncClient(
            base_url=base + "/",
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def model_listed(self, timeout_s: float = 5.0) -> tuple[bool, str]:
        """Health probe: the server answers AND serves the model in its /v1/models list."""
        try:
            resp = await self._http.get("models", timeout=timeout_s)
            resp.raise_for_status()
            data = resp.json()
            served = {str(m.get("id")) for m in data.get("data", [])}
        except httpx.HTTPError as exc:
            return False, f"cannot reach {self._http.base_url}: {type(exc).__name__}"
        except (ValueError, AttributeError, TypeError):
            return False, f"{self._http.base_url}models is not an OpenAI-compatible list"
        if self.model in served:
            return True, f"{self.model} is served"
        return False, f"{self.model} is not served there"

    async def _call(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        try:
            if self.settings.mode == "completions":
                return await self._completions(policy, user_message, effort)
            return await self._chat(policy, user_message, effort)
        except httpx.TimeoutException:
            raise ModelCallError(
                "timeout", f"no answer from {self.model} within {self.settings.timeout_s:g}s"
            ) from None
        except httpx.HTTPStatusError as exc:
            raise _status_error(exc.response, self.model, self.secrets) from None
        except httpx.HTTPError as exc:
            raise ModelCallError(
                "connection", f"cannot reach the escalation server: {type(exc).__name__}"
            ) from None

    # -- chat mode --------------------------------------------------------------------------

    async def _chat(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model,
            "messages": build_chat(policy.system_prompt, user_message),
            "reasoning_effort": effort,
            "max_tokens": s.max_tokens,
            "temperature": 0,
            "stream": s.stream,
        }
        if s.json_schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": OUTPUT_SCHEMA},
            }
        if s.stream:
            body["stream_options"] = {"include_usage": True}
            return await self._chat_stream(body)
        data = await self._post_json("chat/completions", body)
        choice = _first_choice(data)
        message = choice.get("message")
        if not isinstance(message, dict):
            raise ModelCallError("malformed", "the reply's choice has no message")
        usage = data.get("usage") or {}
        return RawAnswer(
            content=_text(message.get("content")),
            reasoning=_text(message.get("reasoning_content") or message.get("reasoning")),
            truncated=choice.get("finish_reason") == "length",
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )

    async def _chat_stream(self, body: dict[str, Any]) -> RawAnswer:
        content: list[str] = []
        reasoning: list[str] = []
        finish = None
        usage: dict[str, Any] = {}
        async for event in self._sse("chat/completions", body):
            if isinstance(event.get("usage"), dict):
                usage = event["usage"]
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                content.append(_text(delta.get("content")))
                reasoning.append(_text(delta.get("reasoning_content") or delta.get("reasoning")))
                finish = choice.get("finish_reason") or finish
        if finish is None:
            raise ModelCallError("connection", "the stream ended before the answer finished")
        return RawAnswer(
            "".join(content),
            "".join(reasoning),
            finish == "length",
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
        )

    # -- raw harmony mode -------------------------------------------------------------------

    async def _completions(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        assert self._harmony is not None  # noqa: S101 - checked in __init__
        s = self.settings
        prompt = self._harmony.render_prompt(policy.system_prompt, user_message, effort)
        body: dict[str, Any] = {
            "model": s.model,
            # Token ids, not text: content can never be re-tokenised into control tokens.
            "prompt": prompt,
            "max_tokens": s.max_tokens,
            "temperature": 0,
            "skip_special_tokens": False,
            "stop_token_ids": self._harmony.stop_tokens,
            "return_token_ids": True,
        }
        data = await self._post_json("completions", body)
        choice = _first_choice(data)
        usage = data.get("usage") or {}
        ids = choice.get("token_ids")
        if isinstance(ids, list) and all(isinstance(t, int) for t in ids):
            parsed = self._harmony.parse_tokens(ids)
        else:
            parsed = self._harmony.parse_text(_text(choice.get("text")))
        return RawAnswer(
            content=parsed.final,
            reasoning=parsed.analysis,
            truncated=choice.get("finish_reason") == "length" or parsed.incomplete,
            prompt_tokens=int(usage.get("prompt_tokens") or len(prompt)),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self._http.post(path, json=body)
        resp.raise_for_status()
        try:
            data = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ModelCallError("malformed", "the server's reply is not JSON") from None
        if not isinstance(data, dict):
            raise ModelCallError("malformed", "the server's reply is not a JSON object")
        return data

    async def _sse(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        async with self._http.stream("POST", path, json=body) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                resp.raise_for_status()
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                try:
                    event = json.loads(payload)
                except json.JSONDecodeError:
                    raise ModelCallError("malformed", "a stream event is not JSON") from None
                if isinstance(event, dict):
                    if "error" in event:
                        raise ModelCallError("http_error", f"stream error: {event['error']}")
                    yield event


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ModelCallError("malformed", "the reply has no choices")
    return choices[0]


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _status_error(resp: httpx.Response, model: str, secrets: tuple[str, ...]) -> ModelCallError:
    code = resp.status_code
    try:
        detail = str(resp.json().get("error", {}).get("message") or resp.text)
    except (ValueError, AttributeError):
        detail = resp.text
    # Redact before cutting: a key split at the cut would slip past the mask.
    detail = redact(detail, secrets)[:200]
    if code in (429, 503):
        return ModelCallError("busy", f"the escalation server is busy ({code}): {detail}")
    if code == 404:
        return ModelCallError("model_missing", f"the server does not serve {model!r}: {detail}")
    if code in (401, 403):
        return ModelCallError("http_error", f"{code}: check ESCALATION_API_KEY ({detail})")
    return ModelCallError("http_error", f"the escalation server answered {code}: {detail}")
