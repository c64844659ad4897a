"""Screenshots the browser tests save (to .artifacts/, ignored by git)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"


def screenshot(tab: Any, name: str, *, full_page: bool = False) -> Path:
    """Save what `tab` shows (or its whole page) as
    .artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path
