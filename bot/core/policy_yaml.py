"""Read one policy's YAML safely: bounded in size, depth and shape, with line-numbered errors.

Policies can now be uploaded from chat, so the text is hostile until proven otherwise. YAML
aliases (`*name`) let 500 bytes expand into billions of nodes (the "billion laughs"), and deep
nesting exhausts Python's recursion; a policy needs neither, so both are refused while the
document is composed, before anything expands. Every refusal is a PolicyProblem with a line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent

from bot.core.policy_errors import GUIDE, PolicyError, PolicyProblem

# A policy is a few kilobytes (10k prompt tokens is ~40 KB); 256 KB leaves room for comments
# and long example lists while refusing a 20 MB upload before the parser sees a byte of it.
MAX_POLICY_CHARS = 256_000
# The deepest real field is prefilter.keywords[i] or examples[i].rule_ids[j]: depth 4.
MAX_DEPTH = 20


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than MAX_DEPTH while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                problem=f"aliases (*{event.anchor}) are not allowed in a policy; write the value out in full",
                problem_mark=event.start_mark,
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {MAX_DEPTH} levels deep; a policy needs at most 4",
                    problem_mark=event.start_mark,
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


def read_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The composed node tree (for line numbers) and the plain data of one policy document."""
    if len(text) > MAX_POLICY_CHARS:
        raise PolicyError(
            [
                PolicyProblem(
                    source, 1, "(file)",
                    f"the file is {len(text):,} characters, over the limit of {MAX_POLICY_CHARS:,}; "
                    "a policy is a few kilobytes",
                )
            ]
        )  # fmt: skip
    loader = _PolicyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and mark and exc.context_mark.line != mark.line:
            what += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise PolicyError(
            [PolicyProblem(source, line, "(yaml)", f"{what}; check indentation and quoting")]
        ) from None
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(source, 1, "(yaml)", str(exc))]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PolicyError(
            [PolicyProblem(source, 1, "(file)", f"a policy is a YAML mapping of fields; {GUIDE}")]
        )
    for found in _walk(node):
        raise PolicyError([PolicyProblem(source, *found)])
    return node, data


def _walk(root: yaml.Node | None) -> list[tuple[int, str, str]]:
    """The first duplicate key or invalid character, as (line, field, message); [] when clean.

    Iterative, and the tree has no shared nodes (aliases were refused), so this is linear.
    """
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, _value in node.value:
                name = str(key.value)
                if name in seen:
                    return [(key.start_mark.line + 1, name, "appears twice; keep one (the last would win)")]
                seen.add(name)
            # Reversed onto the stack, so problems are found in document order.
            stack += [n for pair in reversed(node.value) for n in reversed(pair)]
        elif isinstance(node, yaml.SequenceNode):
            stack += reversed(node.value)
        elif isinstance(node, yaml.ScalarNode) and _has_surrogate(str(node.value)):
            # An escape such as "\ud800" makes a lone surrogate: text no encoder or regex accepts.
            return [(node.start_mark.line + 1, "(yaml)", "holds an invalid character (a lone \\ud8xx "
                     "surrogate escape); remove it")]  # fmt: skip
    return []


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
