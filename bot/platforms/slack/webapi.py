"""Slack's Web API as modbot calls it: one client recipe, one call wrapper, errors as sentences.

Every client the adapter makes (bot token, admin user token, Socket Mode) is built here, so
`SLACK_API_BASE_URL`, the timeout and the rate-limit handling apply to all of them. A call
never raises: it returns what Slack answered, or why not in words an admin can act on
(the scope to add, the channel to invite the bot to), and whether trying later may help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

TIMEOUT_S = 10  # every Web API call; Slack answers in well under a second
MAX_WAIT_S = 30.0  # a longer Retry-After is left to the caller's own backoff (the outbox)

_TOKEN_ERRORS = ("invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive")


class RetryAfter(AsyncRetryHandler):
    """Slack's 429: wait exactly the Retry-After it names, then try again (a few times)."""

    def __init__(self, max_retry_count: int = 3, max_wait_s: float = MAX_WAIT_S) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    @staticmethod
    def _wait(response: HttpResponse | None) -> float:
        if response is None:
            return 0.0
        for key, values in response.headers.items():
            if key.lower() == "retry-after" and values:
                try:
                    return max(0.0, float(values[0]))
                except ValueError:
                    return 1.0
        return 1.0

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None and response.status_code == 429 and self._wait(response) <= self.max_wait_s
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await asyncio.sleep(self._wait(response))
        state.increment_current_attempt()


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client with modbot's timeout and Retry-After handling."""
    if not base_url.endswith("/"):
        base_url += "/"  # slack_sdk joins method names onto the base
    return AsyncWebClient(
        token=token or None, base_url=base_url, timeout=TIMEOUT_S, retry_handlers=[RetryAfter()]
    )


@dataclass(frozen=True, slots=True)
class Called:
    """Slack's answer, or why there is none."""

    ok: bool
    data: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""  # a plain sentence for admins
    code: str = ""  # Slack's error code, for callers that treat one specially
    retryable: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)


def explain(method: str, code: str, data: Mapping[str, Any], channel: str = "") -> tuple[str, bool]:
    """Slack's error code as a sentence naming what to fix, and whether a retry may help."""
    if code == "missing_scope":
        needed = str(data.get("needed") or "a scope")
        return (
            f"Slack refused {method}: the app lacks the {needed} scope; add it under OAuth & Permissions "
            "in the app's settings (or from slack-manifest.yaml) and reinstall the app",
            False,
        )
    if code in ("not_in_channel", "channel_not_found", "is_archived"):
        where = f"<#{channel}>" if channel else "the channel"
        return f"modbot is not in {where}: invite it there with `/invite @modbot`", False
    if code == "cant_delete_message":
        return (
            "Slack refused to delete the message: a bot can delete only its own messages; set "
            "SLACK_ADMIN_USER_TOKEN to a workspace admin's user token",
            False,
        )
    if code in _TOKEN_ERRORS:
        return f"Slack refused the token ({code}) for {method}: check the tokens in .env", False
    if code == "ratelimited":
        return f"Slack rate-limited {method}; modbot will try again later", True
    if code in ("internal_error", "fatal_error", "service_unavailable", "request_timeout"):
        return f"Slack failed {method} ({code}); modbot will try again later", True
    return f"Slack refused {method}: {code}", False


async def call(
    client: AsyncWebClient, method: str, *, channel: str = "", form: bool = False, **params: Any
) -> Called:
    """One Web API call. Never raises for anything Slack or the network does.

    Writes go as JSON; reads (`form=True`) as a form, since Slack's read methods take no JSON.
    """
    if channel:
        params["channel"] = channel
    try:
        if form:
            data = {k: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
                    for k, v in params.items()}  # fmt: skip
            response = await client.api_call(method, data=data)
        else:
            response = await client.api_call(method, json=params)
        headers = {str(k).lower(): _first(v) for k, v in (response.headers or {}).items()}
        return Called(True, dict(response.data) if isinstance(response.data, dict) else {}, headers=headers)
    except SlackApiError as exc:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        code = str(data.get("error") or f"HTTP {exc.response.status_code}")
        if exc.response.status_code == 429:
            code = "ratelimited"
        sentence, retryable = explain(method, code, data, channel)
        log.warning("slack %s failed: %s", method, code)
        return Called(False, data, sentence, code, retryable)
    except (TimeoutError, aiohttp.ClientError, SlackClientError, OSError) as exc:
        log.warning("slack %s failed: %s", method, type(exc).__name__)
        return Called(
            False, error=f"could not reach Slack for {method} ({type(exc).__name__})", code="network"
        )


def _first(value: Any) -> str:
    """aiohttp gives header values as lists in slack_sdk's responses; Slack sends one each."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value)
