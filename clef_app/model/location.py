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
    """$CLEF_MODEL if set, else the bundled models/clef.safetensors, if present.

    $CLEF_MODEL is returned even when it names no file or one without its JSON: loading it
    then fails with a message naming it, instead of Clef silently using another model.
    """
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env)
    return BUNDLED if BUNDLED.is_file() and config_path(BUNDLED).is_file() else None


def named_by_env(path: Path) -> str:
    """" ($CLEF_MODEL)" when `path` is the one the environment names, for messages."""
    return f" (${MODEL_ENV})" if os.environ.get(MODEL_ENV) == str(path) else ""
