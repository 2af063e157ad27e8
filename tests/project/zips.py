"""Hand-made project archives, valid and hostile, for the reader tests."""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def manifest(**overrides: Any) -> dict[str, Any]:
    """A minimal valid project.json; keyword arguments replace or add fields."""
    base: dict[str, Any] = {
        "format": "clef-project",
        "version": 1,
        "audio": None,
        "notes": [{"onset": 0.5, "offset": 1.0, "pitch": 60, "velocity": 80, "id": 7}],
        "settings": {},
        "history": {"edits": [], "index": 0},
    }
    base.update(overrides)
    return base


def write_zip(
    path: Path,
    members: list[tuple[str, bytes]],
    tweak: Callable[[zipfile.ZipInfo], None] | None = None,
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write members as given (no name checks); `tweak` may alter each ZipInfo first."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            if tweak is not None:
                tweak(info)
            zf.writestr(info, data)
    return path


def write_project(path: Path, body: dict[str, Any] | bytes, *extra: tuple[str, bytes]) -> Path:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return write_zip(path, [("project.json", data), *extra])
