"""Finding the pretrained encoder weights at run time; they are never committed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from clef_app.model.errors import ModelError

WEIGHTS_ENV = "CLEF_ENCODER_WEIGHTS"
SHARED_NAME = "vit_tiny_patch16_224.in1k.safetensors"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def candidate_paths(explicit: str | Path | None = None) -> list[Path]:
    """Where to look, in order: explicit path, $CLEF_ENCODER_WEIGHTS, ../shared/weights/."""
    found = []
    if explicit:
        found.append(Path(explicit))
    if os.environ.get(WEIGHTS_ENV):
        found.append(Path(os.environ[WEIGHTS_ENV]))
    found.append(PROJECT_ROOT.parent / "shared" / "weights" / SHARED_NAME)
    found.append(Path.home() / ".cache" / "clef" / "weights" / SHARED_NAME)
    return found


def resolve_weights(explicit: str | Path | None = None) -> Path | None:
    """The first existing weights file, or None (then timm's own download is the last resort).

    Raises:
        ModelError: an explicitly given path does not exist.
    """
    if explicit and not Path(explicit).is_file():
        raise ModelError(f"encoder weights not found: {explicit}")
    return next((p for p in candidate_paths(explicit) if p.is_file()), None)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
