"""Render and parse the harmony format ourselves, for raw /v1/completions servers.

The policy goes into the developer message exactly as Ollama and vLLM put a system message
there, so raw and chat mode show the model the same prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from openai_harmony import (
    Conversation,
    DeveloperContent,
    HarmonyEncoding,
    HarmonyError,
    Message,
    ReasoningEffort,
    Role,
    StreamableParser,
    SystemContent,
)

_EFFORT = {"low": ReasoningEffort.LOW, "medium": ReasoningEffort.MEDIUM, "high": ReasoningEffort.HIGH}


@dataclass(frozen=True, slots=True)
class HarmonyAnswer:
    analysis: str
    final: str
    incomplete: bool  # the output stopped inside a message


class HarmonyCodec:
    def __init__(self, encoding: HarmonyEncoding) -> None:
        self.encoding = encoding
        self.stop_tokens: list[int] = list(encoding.stop_tokens_for_assistant_actions())

    def render_prompt(self, policy_text: str, user_message: str, effort: str) -> list[int]:
        system = SystemContent.new().with_reasoning_effort(_EFFORT[effort])
        conv = Conversation.from_messages(
            [
                Message.from_role_and_content(Role.SYSTEM, system),
                Message.from_role_and_content(
                    Role.DEVELOPER, DeveloperContent.new().with_instructions(policy_text)
                ),
                # Harmony encodes message text as ordinary tokens: "<|end|>" typed by a user
                # becomes the characters, not the control token.
                Message.from_role_and_content(Role.USER, user_message),
            ]
        )
        return list(self.encoding.render_conversation_for_completion(conv, Role.ASSISTANT))

    def render_text(self, policy_text: str, user_message: str, effort: str) -> str:
        return str(self.encoding.decode_utf8(self.render_prompt(policy_text, user_message, effort)))

    def parse_text(self, text: str) -> HarmonyAnswer:
        # The server decoded the completion with its control tokens kept (skip_special_tokens=false).
        try:
            tokens = self.encoding.encode(text, allowed_special="all")
        except HarmonyError:
            return HarmonyAnswer("", "", True)
        return self.parse_tokens(tokens)

    def parse_tokens(self, tokens: list[int]) -> HarmonyAnswer:
        parser = StreamableParser(self.encoding, Role.ASSISTANT)
        try:
            for token in tokens:
                parser.process(token)
        except HarmonyError:
            return self._collect(parser, incomplete=True)
        # Servers usually drop the stop token itself; finish_reason says whether output was cut.
        return self._collect(parser, incomplete=False)

    @staticmethod
    def _collect(parser: StreamableParser, *, incomplete: bool) -> HarmonyAnswer:
        analysis: list[str] = []
        final: list[str] = []
        for msg in parser.messages:
            text = "".join(c.text for c in msg.content if hasattr(c, "text"))
            (final if msg.channel == "final" else analysis).append(text)
        pending = parser.current_content
        if pending:
            (final if parser.current_channel == "final" else analysis).append(pending)
        return HarmonyAnswer("\n".join(analysis), "".join(final), incomplete)
