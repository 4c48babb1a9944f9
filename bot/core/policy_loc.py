"""Map a field path such as ('rules', 2, 'id') to its line in the YAML source."""

from __future__ import annotations

import yaml


def locate(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int:
    """1-based line of the deepest part of `loc` that exists in the document.

    A missing field points at its parent mapping; an unknown one at its own key.
    """
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    # The key's line is where the author looks.
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        else:
            return line
    return line


def path_label(loc: tuple[str | int, ...]) -> str:
    """('rules', 2, 'id') -> 'rules[2].id'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(policy)"
