"""`modbot doctor`: one line per check, with the fix when it fails; exit 0 only when all pass.

Checks talk to Ollama, the tier-2 server, Discord and Slack over plain HTTP (httpx), so they
work before (and without) the platform adapters, and never need discord.py or slack_bolt.
"""

from bot.ops.doctor.result import Check, exit_code
from bot.ops.doctor.runner import run_checks
from bot.ops.doctor.settings_check import invalid_settings

__all__ = ["Check", "exit_code", "invalid_settings", "run_checks"]
