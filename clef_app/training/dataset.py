"""Cached features + target tokens, served as random batches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from clef_app.config import N_PITCHES
from clef_app.notation.codec import PAD


class CachedSplit:
    """One split of the feature cache, memory-mapped (or loaded into RAM)."""

    def __init__(self, folder: Path, in_memory: bool = False) -> None:
        meta = json.loads((folder / "meta.json").read_text())
        shape = (meta["segments"], meta["tokens_per_segment"], meta["dim"])
        self.meta = meta
        self.features = np.memmap(folder / "features.f16", dtype=np.float16, mode="r", shape=shape)
        if in_memory:
            self.features = np.array(self.features)
        self.tokens = np.load(folder / "tokens.npy")
        self.lengths = (self.tokens != PAD).sum(axis=1)
        rolls = folder / "rolls.npy"
        self.rolls = np.load(rolls) if rolls.is_file() else None

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
        feats = torch.from_numpy(np.asarray(self.features[rows], dtype=np.float32))
        tokens = torch.from_numpy(self.tokens[rows, :t].astype(np.int64))
        rolls = None
        if self.rolls is not None:
            bits = np.unpackbits(self.rolls[rows], axis=-1, count=N_PITCHES)
            rolls = torch.from_numpy(bits.astype(np.float32))
        return feats, tokens, rolls
