"""The command tests use the core-flow environment (a core, a fake Ollama, a recording platform)."""

from tests.core_flow.conftest import env

__all__ = ["env"]
