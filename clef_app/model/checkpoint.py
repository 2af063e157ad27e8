"""Checkpoints: safetensors (trained parameters only, fp16) + a JSON config beside them.

Nothing is ever unpickled. A file that does not match the model it claims to be is refused
with a message that names the file and the problem.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch.overrides import TorchFunctionMode

from clef_app.atomic import atomic_write_bytes, atomic_write_text
from clef_app.config import MAX_PARAMETERS, ModelConfig
from clef_app.model.clef_model import ClefModel
from clef_app.model.encoders import trains_encoder
from clef_app.model.errors import ModelError
from clef_app.model.location import (  # noqa: F401 - BUNDLED, MODEL_ENV re-exported
    BUNDLED,
    MODEL_ENV,
    config_path,
    find_checkpoint,
    named_by_env,
)
from clef_app.notation.codec import VOCAB_SIZE, VOCAB_VERSION

FORMAT = "clef-checkpoint"
MAX_HEADER_BYTES = 16 * 2**20  # B: a safetensors header (the shipped one is ~20 KB)
WEIGHT_DTYPES = {"F16": 2, "BF16": 2, "F32": 4}  # safetensors dtype -> bytes per value
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
        raise ModelError(f"{path}{named_by_env(path)}: its config {cpath.name} is missing")
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


def load_state(path: Path, cfg: ModelConfig | None = None) -> dict[str, torch.Tensor]:
    """Tensors from a safetensors file; pickles and damaged files are refused.

    With `cfg`, the header's names, shapes and dtypes are checked against the model `cfg`
    describes before a byte of tensor data is read, and every tensor must be finite.
    """
    header = read_header(path)
    if cfg is not None:
        check_header(path.name, header, expected_shapes(cfg), trains_encoder(cfg))
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{path.name}: damaged or truncated safetensors file ({exc})") from exc
    if cfg is not None:
        bad = [k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()]
        if bad:
            raise ModelError(f"{path.name}: {len(bad)} tensors hold NaN or infinite values "
                             f"({', '.join(bad[:3])})")
    return state


def read_header(path: Path) -> dict:
    """The safetensors header (JSON) of `path`, read and bounded without the tensor data."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(9)
        header_len = int.from_bytes(head[:8], "little") if len(head) == 9 else -1
        if not (0 < header_len <= min(size - 8, MAX_HEADER_BYTES) and head[8:9] == b"{"):
            if head[:1] == b"\x80" or head[:2] == b"PK":
                raise ModelError(f"{path.name}: a pickle/zip file; Clef only loads safetensors")
            raise ModelError(f"{path.name}: damaged or truncated safetensors file (bad header)")
        f.seek(8)
        raw = f.read(header_len)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path.name}: damaged safetensors header ({str(exc)[:80]})") from exc
    if not isinstance(header, dict):
        raise ModelError(f"{path.name}: damaged safetensors header (not an object)")
    if sum(_tensor_bytes(path.name, k, v) for k, v in header.items()) != size - 8 - header_len:
        raise ModelError(f"{path.name}: damaged or truncated safetensors file (its tensors "
                         "do not fill it)")
    return header


def _tensor_bytes(name: str, key: str, entry: object) -> int:
    if key == "__metadata__":
        return 0
    if not isinstance(entry, dict) or entry.get("dtype") not in WEIGHT_DTYPES:
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        raise ModelError(f"{name}: tensor {key[:80]} has dtype {dtype!r}; Clef's weights are "
                         f"{', '.join(WEIGHT_DTYPES)}")
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    if not (isinstance(shape, list) and all(isinstance(n, int) and 0 <= n for n in shape)
            and isinstance(offsets, list) and len(offsets) == 2):
        raise ModelError(f"{name}: tensor {key[:80]} has a damaged header entry")
    count = math.prod(shape)
    if count > 4 * MAX_PARAMETERS or offsets[1] - offsets[0] != count * WEIGHT_DTYPES[
            entry["dtype"]]:
        raise ModelError(f"{name}: tensor {key[:80]} does not match its size")
    return count * WEIGHT_DTYPES[entry["dtype"]]


def expected_shapes(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The stored tensors' shapes of the model `cfg` describes, without allocating it (the
    encoder aside: its tensors are checked once it is built)."""
    with torch.device("meta"), _Uninitialised():
        model = ClefModel(cfg)
    return {k: tuple(v.shape) for k, v in model.trainable_state().items() if k != _TIED}


class _Uninitialised(TorchFunctionMode):
    """Skips `torch.nn.init`'s initialisers on meta tensors, which hold no values anyway: on
    the meta device they run through torch._refs, whose first use imports torch._dynamo
    (1.7 s of every `clef transcribe`). Modes are per thread."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensor = args[0] if args else kwargs.get("tensor")  # nn.init passes it by keyword
        if (getattr(func, "__module__", "") == "torch.nn.init"
                and isinstance(tensor, torch.Tensor) and tensor.is_meta):
            return tensor
        return func(*args, **kwargs)


def check_header(name: str, header: dict, shapes: dict[str, tuple[int, ...]],
                 with_encoder: bool) -> None:
    """Every stored tensor is one the model has, with its shape; none is missing."""
    stored = {k: tuple(v["shape"]) for k, v in header.items() if k != "__metadata__"}
    wrong = [k for k, shape in stored.items()
             if shapes.get(k, shape if with_encoder and k.startswith("encoder.") else None)
             != shape]
    missing = [k for k in shapes if k not in stored]
    if wrong or missing:
        raise ModelError(f"{name}: does not match the model its config describes "
                         f"(unexpected/mis-shaped {wrong[:3]}, missing {missing[:3]})")


def checkpoint_file(path: str | Path | None) -> Path:
    """The checkpoint a caller names, or the installed one (`find_checkpoint`).

    Raises:
        ModelError: none installed, or no such file (naming $CLEF_MODEL if it named it).
    """
    path = Path(path) if path else find_checkpoint()
    if path is None:
        raise ModelError("no trained model installed (models/clef.safetensors is missing)")
    if not path.is_file():
        raise ModelError(f"{path}{named_by_env(path)}: no such model file")
    return path


def load_checkpoint(path: str | Path | None = None, weights: str | Path | None = None,
                    with_encoder: bool = True) -> ClefModel:
    """Build the model a checkpoint describes and load its parameters (in eval mode).

    Raises:
        ModelError: no checkpoint, a bad file, shapes that do not match, wrong encoder weights.
    """
    path = checkpoint_file(path)
    cfg, _ = read_config(path)
    state = load_state(path, cfg)  # names, shapes, dtypes, finiteness: before the model
    model = ClefModel.build(cfg, weights, with_encoder=with_encoder)
    expected = model.trainable_state()
    problems = [k for k in state if k not in expected or state[k].shape != expected[k].shape]
    missing = [k for k in expected if k not in state and k != _TIED]
    if problems or missing:
        raise ModelError(f"{path.name}: does not match the model its config describes "
                         f"(unexpected/mis-shaped {problems[:3]}, missing {missing[:3]})")
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    return model.eval()
