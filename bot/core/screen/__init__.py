"""The learned screen: a small per-policy model that offers the model what keywords miss."""

from bot.core.screen.book import Screens, ScreenSettings, ScreenStats, wilson
from bot.core.screen.model import THRESHOLD, ScreenModel

__all__ = ["THRESHOLD", "ScreenModel", "ScreenSettings", "ScreenStats", "Screens", "wilson"]
