"""Model tiers: Ollama (20b), an OpenAI-compatible server (120b), and escalation between them."""

from bot.core.classifier.base import ClassifyRequest, ModelCallError, ModelTier, RawAnswer
from bot.core.classifier.tiered import TieredClassifier, escalation_cause

__all__ = [
    "ClassifyRequest",
    "ModelCallError",
    "ModelTier",
    "RawAnswer",
    "TieredClassifier",
    "escalation_cause",
]
