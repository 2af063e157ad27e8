"""User preferences in QSettings, each with its default and type."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

ORGANISATION = "Clef"
APPLICATION = "Clef"

# key -> default; the default's type is the value's type
DEFAULTS: dict[str, Any] = {
    "spectrogram/colormap": "inferno",
    "spectrogram/db_range": 60.0,  # dB below the loudest bin shown
    "spectrogram/scale": "log-frequency",  # or "mel", earlier models' picture (logfreq.SCALES)
    "audio/output_device": "",  # device name; "" = the system default
    "audio/input_device": "",
    "playback/follow": True,
    "playback/balance": 0.0,  # 0 original .. 1 synthesised notes
    "playback/speed": 100,  # percent
    "session/demo_shown": False,  # the demo opens on the very first start only
    "session/recent": [],  # most recent first
}
COLORMAPS = ("inferno", "magma", "viridis", "plasma", "cividis", "turbo")
MAX_RECENT = 10


def settings() -> QSettings:
    return QSettings(ORGANISATION, APPLICATION)


def get(key: str) -> Any:
    """The stored value converted to its default's type (the default if unreadable)."""
    default = DEFAULTS[key]
    value = settings().value(key, default)
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true")
        if isinstance(default, list):
            if value in (None, ""):
                return []
            return [str(v) for v in (value if isinstance(value, list) else [value])]
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def put(key: str, value: Any) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
    settings().setValue(key, value)


def add_recent(path: str) -> list[str]:
    """Put a path first in the recent list; returns the new list."""
    recent = [path] + [p for p in get("session/recent") if p != path]
    put("session/recent", recent[:MAX_RECENT])
    return recent[:MAX_RECENT]
