"""The learned screen: a small per-policy model that offers the model what keywords miss."""

from bot.core.screen.book import Screens, ScreenSettings, ScreenStats
from bot.core.screen.model import THRESHOLD, ScreenModel
from bot.core.screen.report import ScreenReport, wilson

__all__ = ["THRESHOLD", "ScreenModel", "ScreenReport", "ScreenSettings", "ScreenStats", "Screens", "wilson"]
