"""Where the checkpoint is: cheap to import (no torch), for the app to ask before loading."""

from __future__ import annotations

import os
from pathlib import Path

from clef_app.model.weights import PROJECT_ROOT

MODEL_ENV = "CLEF_MODEL"
BUNDLED = PROJECT_ROOT / "models" / "clef.safetensors"


def config_path(path: Path) -> Path:
    return path.with_suffix(".json")


def find_checkpoint() -> Path | None:
    """$CLEF_MODEL if set, else the bundled models/clef.safetensors, if present."""
    env = os.environ.get(MODEL_ENV)
    for p in ([Path(env)] if env else []) + [BUNDLED]:
        if p.is_file() and config_path(p).is_file():
            return p
    return None
