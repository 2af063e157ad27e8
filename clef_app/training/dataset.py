"""Cached features + target tokens, served as random batches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from clef_app.config import N_PITCHES
from clef_app.notation.codec import PAD


def split_folders(cache: Path, name: str) -> list[Path]:
    """The finished folders of a split: `name` itself or its parts `name-00`, `name-01`, ..."""
    found = [cache / name] + sorted(cache.glob(f"{name}-[0-9]*"))
    return [f for f in found if (f / "meta.json").is_file()]


def _features(folder: Path, meta: dict) -> np.memmap:
    """The memory-mapped (segments, tokens, dim) features of a cache folder.

    Raises:
        ValueError: the file's size is not what `meta.json` says (a cut or foreign file).
    """
    path = folder / "features.f16"
    shape = (meta["segments"], meta["tokens_per_segment"], meta["dim"])
    expected = 2 * int(np.prod(shape))  # float16: 2 bytes a value
    size = path.stat().st_size if path.is_file() else -1
    if size != expected:
        raise ValueError(f"{path}: {size} bytes, but meta.json describes {expected} "
                         "(an unfinished cache: run `clef cache` again)")
    return np.memmap(path, dtype=np.float16, mode="r", shape=shape)


class CachedSplit:
    """A split of the feature cache (one folder or several parts), memory-mapped."""

    def __init__(self, folders: Path | list[Path]) -> None:
        folders = [folders] if isinstance(folders, Path) else folders
        if not folders:
            raise FileNotFoundError("no finished cache folders")
        metas = [json.loads((f / "meta.json").read_text()) for f in folders]
        self.meta = metas[0]
        self.features = [_features(f, m) for f, m in zip(folders, metas, strict=True)]
        self.starts = np.cumsum([0] + [m["segments"] for m in metas])
        self.tokens = np.concatenate([np.load(f / "tokens.npy") for f in folders])
        self.lengths = (self.tokens != PAD).sum(axis=1)
        rolls = [f / "rolls.npy" for f in folders]
        self.rolls = np.concatenate([np.load(r) for r in rolls]) if all(
            r.is_file() for r in rolls) else None

    def __len__(self) -> int:
        return len(self.tokens)

    def batches(self, batch: int, rng: np.random.Generator, pool: int = 32):
        """Endless random batches of rows with similar token lengths (little padding).

        Rows are shuffled, cut into pools of `pool` batches, sorted by length within a pool,
        and the pool's batches served in random order.
        """
        while True:
            order = rng.permutation(len(self))
            for lo in range(0, len(order) - batch + 1, batch * pool):
                chunk = order[lo : lo + batch * pool]
                chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
                groups = [chunk[i : i + batch] for i in range(0, len(chunk) - batch + 1, batch)]
                for g in rng.permutation(len(groups)):
                    yield groups[g]

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Features (B, tokens, dim) float32, tokens (B, T) int64 cut to the longest row,
        and onset/frame rolls (B, frames, 2, 88) float32 (None for a cache without them)."""
        rows = np.sort(rows)
        t = int(self.lengths[rows].max())
        part = np.searchsorted(self.starts, rows, side="right") - 1
        feats = torch.from_numpy(np.stack(
            [self.features[p][r - self.starts[p]] for p, r in zip(part, rows, strict=True)]
        ).astype(np.float32))
        tokens = torch.from_numpy(self.tokens[rows, :t].astype(np.int64))
        rolls = None
        if self.rolls is not None:
            bits = np.unpackbits(self.rolls[rows], axis=-1, count=N_PITCHES)
            rolls = torch.from_numpy(bits.astype(np.float32))
        return feats, tokens, rolls
