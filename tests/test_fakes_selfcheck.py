"""Self-check: the loopback fakes speak the real protocols to the real clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import ollama
import pytest

from tests.fakes import BUSY_MESSAGE, FakeOllama, FakeOpenAI, Reply, verdict_json

MODEL = "gpt-oss-safeguard:20b"
OAI_MODEL = "openai/gpt-oss-safeguard-120b"
MSGS = [{"role": "user", "content": "hello"}]


@asynccontextmanager
async def client(fake: FakeOllama) -> AsyncIterator[ollama.AsyncClient]:
    c = ollama.AsyncClient(host=fake.url, trust_env=False, timeout=5)
    try:  # AsyncClient has __aexit__ but no __aenter__ in ollama 0.6
        yield c
    finally:
        await c.close()


async def test_ollama_chat_whole_and_streamed() -> None:
    answer = verdict_json(1, ["H1"], rationale="Insult.", category="harassment")
    fake = FakeOllama(lambda _b: Reply(content=answer, thinking="It insults."))
    async with fake, client(fake) as c:
        r = await c.chat(model=MODEL, messages=MSGS, think="low", stream=False)
        assert (r.message.content, r.message.thinking) == (answer, "It insults.")
        assert r.done and r.done_reason == "stop"
        assert r.eval_count and r.prompt_eval_count
        parts = [p async for p in await c.chat(model=MODEL, messages=MSGS, stream=True)]
        assert "".join(p.message.thinking or "" for p in parts) == "It insults."
        assert "".join(p.message.content or "" for p in parts) == answer
        assert parts[-1].done and not any(p.done for p in parts[:-1])
        # Without "stream", real Ollama streams NDJSON.
        async with httpx.AsyncClient(trust_env=False) as http:
            raw = await http.post(f"{fake.url}/api/chat", json={"model": MODEL, "messages": MSGS})
        assert raw.headers["content-type"] == "application/x-ndjson"
        assert json.loads(raw.text.splitlines()[-1])["done"] is True
    assert fake.requests[0]["think"] == "low" and len(fake.requests) == 3


async def test_ollama_errors_busy_and_unknown_model() -> None:
    fake = FakeOllama(lambda _b: Reply(status=503, error=BUSY_MESSAGE))
    async with fake, client(fake) as c:
        with pytest.raises(ollama.ResponseError) as busy:
            await c.chat(model=MODEL, messages=MSGS)
        assert busy.value.status_code == 503 and busy.value.error == BUSY_MESSAGE
        with pytest.raises(ollama.ResponseError) as missing:
            await c.chat(model="nope", messages=MSGS)
        assert missing.value.status_code == 404 and "not found" in missing.value.error
        assert (await c.list()).models[0].model == MODEL


async def test_ollama_slots_and_queue() -> None:
    fake = FakeOllama(lambda _b: Reply(delay_s=0.3), slots=1, max_queue=1)
    async with fake, client(fake) as c:
        calls = [c.chat(model=MODEL, messages=MSGS) for _ in range(3)]
        results = await asyncio.gather(*calls, return_exceptions=True)
    errors = [r for r in results if isinstance(r, ollama.ResponseError)]
    assert [e.status_code for e in errors] == [503] and fake.peak_active == 1


def test_ollama_in_thread_for_sync_code() -> None:
    async def ask(fake: FakeOllama) -> ollama.ChatResponse:
        async with client(fake) as c:
            return await c.chat(model=MODEL, messages=MSGS)

    with FakeOllama().in_thread() as fake:
        reply = asyncio.run(ask(fake))
    assert json.loads(reply.message.content or "")["violation"] == 0


async def test_openai_chat_json_auth_and_sse() -> None:
    reply = Reply(content=verdict_json(0), thinking="Fine.", reasoning_field="reasoning")
    async with FakeOpenAI(lambda _b: reply, api_key="k") as fake:
        url = f"{fake.url}/v1/chat/completions"
        body: dict[str, Any] = {"model": OAI_MODEL, "messages": MSGS}
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            denied = await http.post(url, json=body)
            assert denied.status_code == 401 and denied.json()["error"]["code"] == 401
            auth = {"Authorization": "Bearer k"}
            data = (await http.post(url, json=body, headers=auth)).json()
            assert data["choices"][0]["message"]["reasoning"] == "Fine."
            assert data["usage"]["total_tokens"] > 0
            stream = body | {"stream": True, "stream_options": {"include_usage": True}}
            events = []
            async with http.stream("POST", url, json=stream, headers=auth) as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                async for line in resp.aiter_lines():
                    if line.startswith("data: "):
                        events.append(line[6:])
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert "".join(d.get("content", "") for d in deltas) == verdict_json(0)
    assert "".join(d.get("reasoning", "") for d in deltas) == "Fine."
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


async def test_openai_raw_completions_token_ids() -> None:
    async with FakeOpenAI(lambda _b: Reply(content='{"violation": 1}', thinking="Bad.")) as fake:
        enc = fake.encoding
        prompt = enc.encode("<|start|>user<|message|>hi<|end|><|start|>assistant", allowed_special="all")
        body = {
            "model": OAI_MODEL,
            "prompt": prompt,
            "max_tokens": 200,
            "skip_special_tokens": False,
            "return_token_ids": True,
            "stop_token_ids": [200002, 200012],
        }
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            r = await http.post(f"{fake.url}/v1/completions", json=body)
    choice = r.json()["choices"][0]
    assert choice["text"].endswith('<|channel|>final<|message|>{"violation": 1}')
    assert enc.decode(choice["token_ids"]) == choice["text"]
    assert choice["finish_reason"] == "stop"
    assert fake.decode_prompt().endswith("<|start|>assistant")
