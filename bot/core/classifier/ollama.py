"""Tier 1: gpt-oss-safeguard-20b served by Ollama, through the official async client."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
import ollama
from pydantic import ValidationError

from bot.core.classifier.base import ModelCallError, ModelTier, RawAnswer
from bot.core.policies import Policy
from bot.core.prompt import OUTPUT_SCHEMA, build_chat


@dataclass(frozen=True, slots=True)
class OllamaSettings:
    host: str = "http://127.0.0.1:11434"
    model: str = "gpt-oss-safeguard:20b"
    timeout_s: float = 60.0
    connect_timeout_s: float = 5.0
    keep_alive: str = "30m"
    num_ctx: int | None = None  # None: the policy's num_ctx
    num_predict: int = 1536  # reasoning + answer
    stream: bool = False
    use_format: bool = True  # Ollama >= 0.12.4 honours a JSON schema with gpt-oss


class OllamaTier(ModelTier):
    tier = 1

    def __init__(self, settings: OllamaSettings) -> None:
        self.settings = settings
        self.model = settings.model
        # The client's default timeout is None (wait forever); a stuck GPU must not stall us.
        self._client = ollama.AsyncClient(
            host=settings.host,
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.close()  # type: ignore[no-untyped-call]

    async def model_listed(self, timeout_s: float = 5.0) -> tuple[bool, str]:
        """Health probe: the server answers AND lists the model in /api/tags (it is pulled)."""
        try:
            async with asyncio.timeout(timeout_s):
                listed = await self._client.list()
        except (TimeoutError, ConnectionError, httpx.HTTPError, ollama.ResponseError) as exc:
            return False, f"cannot reach Ollama at {self.settings.host}: {type(exc).__name__}"
        except (ValidationError, json.JSONDecodeError, TypeError):
            return False, f"{self.settings.host}/api/tags is not Ollama's shape"
        names = {_canonical(m.model or "") for m in listed.models}
        if _canonical(self.model) in names:
            return True, f"{self.model} is pulled"
        return False, f"{self.model} is not pulled (run `ollama pull {self.model}` there)"

    async def _call(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": s.model,
            "messages": build_chat(policy.system_prompt, user_message),
            "think": effort,
            "options": {
                "num_ctx": s.num_ctx or policy.spec.num_ctx,
                "num_predict": s.num_predict,
                "temperature": 0,
            },
            "keep_alive": s.keep_alive,
        }
        if s.use_format:
            kwargs["format"] = OUTPUT_SCHEMA
        try:
            async with asyncio.timeout(s.timeout_s):
                if s.stream:
                    return await self._streamed(kwargs)
                resp = await self._client.chat(**kwargs, stream=False)
        except ollama.ResponseError as exc:
            raise _response_error(exc, s.model) from None
        except (TimeoutError, httpx.TimeoutException):
            raise ModelCallError("timeout", f"no answer from Ollama within {s.timeout_s:g}s") from None
        except ConnectionError as exc:  # the ollama client's own wording for refused connections
            raise ModelCallError("connection", f"cannot reach Ollama at {s.host}: {exc}") from None
        except httpx.HTTPError as exc:
            raise ModelCallError("connection", f"Ollama connection failed: {exc!r}") from None
        except (ValidationError, json.JSONDecodeError, TypeError) as exc:
            raise ModelCallError("malformed", f"Ollama replied in an unexpected shape: {exc}") from None
        msg = resp.message
        return RawAnswer(
            content=msg.content or "",
            reasoning=msg.thinking or "",
            truncated=resp.done_reason == "length",
            prompt_tokens=resp.prompt_eval_count or 0,
            completion_tokens=resp.eval_count or 0,
        )

    async def _streamed(self, kwargs: dict[str, Any]) -> RawAnswer:
        content: list[str] = []
        thinking: list[str] = []
        done_reason = None
        prompt_tokens = completion_tokens = 0
        stream = await self._client.chat(**kwargs, stream=True)
        async for part in stream:
            if part.message.content:
                content.append(part.message.content)
            if part.message.thinking:
                thinking.append(part.message.thinking)
            if part.done:
                done_reason = part.done_reason
                prompt_tokens = part.prompt_eval_count or 0
                completion_tokens = part.eval_count or 0
        if done_reason is None:
            # The stream ended without its final chunk: the server went away mid-answer.
            raise ModelCallError("connection", "Ollama closed the stream before it finished")
        return RawAnswer(
            "".join(content),
            "".join(thinking),
            done_reason == "length",
            prompt_tokens,
            completion_tokens,
        )


def _canonical(name: str) -> str:
    """Ollama's own rule: a name without a tag means `:latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _response_error(exc: ollama.ResponseError, model: str) -> ModelCallError:
    code = exc.status_code
    if code == 503 or code == 429:
        return ModelCallError("busy", f"Ollama is busy ({exc.error}); will retry later")
    if code == 404:
        return ModelCallError("model_missing", f"Ollama has no model {model!r}: run `ollama pull {model}`")
    if code == -1:  # an error object inside a stream
        return ModelCallError("http_error", f"Ollama stream error: {exc.error}")
    return ModelCallError("http_error", f"Ollama answered {code}: {exc.error}")
