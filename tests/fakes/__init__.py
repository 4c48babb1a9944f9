"""Loopback test doubles of the model servers (Ollama, vLLM's OpenAI-compatible API) and Discord.

All bind 127.0.0.1 on a random port and speak the real wire protocols, so the real
ollama.AsyncClient, httpx and discord.py can be tested against them. See each module for details.
"""

from ._base import Reply, Responder, default_responder, harmony_encoding, verdict_json
from .discord_server import FakeDiscord
from .ollama_server import BUSY_MESSAGE, FakeOllama
from .openai_server import FakeOpenAI, harmony_text_for

__all__ = [
    "BUSY_MESSAGE",
    "FakeDiscord",
    "FakeOllama",
    "FakeOpenAI",
    "Reply",
    "Responder",
    "default_responder",
    "harmony_encoding",
    "harmony_text_for",
    "verdict_json",
]
