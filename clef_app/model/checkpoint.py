"""Checkpoints: safetensors (trained parameters only, fp16) + a JSON config beside them.

Nothing is ever unpickled. A file that does not match the model it claims to be is refused
with a message that names the file and the problem.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from clef_app.atomic import atomic_write_bytes, atomic_write_text
from clef_app.config import ModelConfig
from clef_app.model.clef_model import ClefModel
from clef_app.model.errors import ModelError
from clef_app.model.location import BUNDLED, MODEL_ENV, config_path, find_checkpoint  # noqa: F401
from clef_app.notation.codec import VOCAB_SIZE, VOCAB_VERSION

FORMAT = "clef-checkpoint"
_TIED = "decoder.head.weight"  # tied to decoder.embed.weight; stored once


def save_checkpoint(model: ClefModel, path: str | Path, extra: dict | None = None,
                    half: bool = True) -> None:
    """Write trained parameters (fp16 unless told) and the config, each atomically."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.trainable_state().items()
             if k != _TIED}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    meta = {"format": FORMAT, "vocab_size": VOCAB_SIZE, "config": model.cfg.to_dict(),
            **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, save(state, metadata={"format": FORMAT}))
    atomic_write_text(config_path(path), json.dumps(meta, indent=2) + "\n")


def read_config(path: str | Path) -> tuple[ModelConfig, dict]:
    """The model config and metadata stored beside a checkpoint.

    Raises:
        ModelError: missing, unreadable, or written for another vocabulary or format.
    """
    path = Path(path)
    cpath = config_path(path)
    if not cpath.is_file():
        raise ModelError(f"{path.name}: its config {cpath.name} is missing")
    try:
        meta = json.loads(cpath.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("not a Clef model config")
        cfg = ModelConfig.from_dict(meta["config"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{cpath.name}: not a valid Clef model config ({exc})") from exc
    if cfg.vocab_version != VOCAB_VERSION or meta.get("vocab_size") != VOCAB_SIZE:
        raise ModelError(f"{path.name}: written for token vocabulary v{cfg.vocab_version} of "
                         f"{meta.get('vocab_size')} tokens; this Clef reads v{VOCAB_VERSION} of "
                         f"{VOCAB_SIZE}")
    return cfg, meta


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a safetensors file; pickles and damaged files are refused."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
    header_len = int.from_bytes(head[:8], "little") if len(head) == 9 else -1
    if not (0 < header_len <= size - 8 and head[8:9] == b"{"):
        if head[:1] == b"\x80" or head[:2] == b"PK":
            raise ModelError(f"{path.name}: a pickle/zip file; Clef only loads safetensors")
        raise ModelError(f"{path.name}: damaged or truncated safetensors file (bad header)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path.name}: damaged or truncated safetensors file ({exc})") from exc


def load_checkpoint(path: str | Path | None = None, weights: str | Path | None = None,
                    with_encoder: bool = True) -> ClefModel:
    """Build the model a checkpoint describes and load its parameters (in eval mode).

    Raises:
        ModelError: no checkpoint, a bad file, shapes that do not match, wrong encoder weights.
    """
    path = Path(path) if path else find_checkpoint()
    if path is None:
        raise ModelError("no trained model installed (models/clef.safetensors is missing)")
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    cfg, _ = read_config(path)
    state = load_state(path)
    model = ClefModel.build(cfg, weights, with_encoder=with_encoder)
    expected = model.trainable_state()
    problems = [k for k in state if k not in expected or state[k].shape != expected[k].shape]
    missing = [k for k in expected if k not in state and k != _TIED]
    if problems or missing:
        raise ModelError(f"{path.name}: does not match the model its config describes "
                         f"(unexpected/mis-shaped {problems[:3]}, missing {missing[:3]})")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.eval()
