"""The learned screen: a small per-policy model that offers the model what keywords miss."""

from bot.core.screen.book import Screens
from bot.core.screen.model import THRESHOLD, ScreenModel
from bot.core.screen.report import ScreenReport, wilson
from bot.core.screen.settings import ScreenSettings, ScreenStats

__all__ = ["THRESHOLD", "ScreenModel", "ScreenReport", "ScreenSettings", "ScreenStats", "Screens", "wilson"]
