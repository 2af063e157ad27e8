"""Caches for the encoders other than the default ViT (`clef cache --kind/--store`).

`--kind cnn`: the frozen EfficientNet's features, in the feature-cache layout cache.py
writes (its `cache_split`). `--store mels`: normalised log-mels, for the encoders that train
(`vit-scratch`, `whisper`): `features.f16` then holds (N, n_mels, frames) float16, with
`tokens.npy`, `rolls.npy` and `index.jsonl` as in a feature cache, so `CachedSplit` serves
both; `meta.json` says `"store": "mels"`. The default ViT feature cache is untouched.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from clef_app.atomic import atomic_write_text
from clef_app.config import ModelConfig
from clef_app.errors import ClefError
from clef_app.model.clef_model import ClefModel
from clef_app.model.encoders import build_encoder, config_for, trains_encoder
from clef_app.model.errors import ModelError
from clef_app.model.frontend import segment_mels
from clef_app.training.cache import cache_split, read_manifest, write_segments


def run_kind(args: argparse.Namespace) -> int:
    """`clef cache` for `--store mels` or a frozen `--kind` other than vit."""
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        cfg = config_for(args.kind)
    except ModelError as exc:
        raise ClefError(str(exc)) from exc
    mels = args.store == "mels"
    if not mels and trains_encoder(cfg):
        raise ClefError(f"{args.kind} trains with the decoder: cache it with --store mels")
    out = args.out or args.data / ("cache-mels" if mels else f"cache-{args.kind}")
    clips = read_manifest(args.data / "manifest.jsonl")
    encoder, sha = (None, "") if mels else build_encoder(cfg)
    for split in args.splits:
        todo = [c for c in clips if c["split"] == split]
        if not todo or (out / split / "meta.json").is_file():
            continue
        if mels:
            cache_mels(cfg, args.data, todo, out / split, args.batch)
        else:
            cache_split(encoder.eval(), cfg, sha, args.data, todo, out / split, args.batch)
    return 0


def cache_mels(cfg: ModelConfig, data: Path, clips: list[dict], out: Path, batch: int) -> None:
    """Write the normalised log-mel of every segment of `clips` into `out` (overwrites)."""
    fe, started = cfg.front_end, time.time()

    def features(samples: np.ndarray, first: int, count: int) -> np.ndarray:
        return segment_mels(samples, first, count, fe).half().numpy()

    targets_out = write_segments(cfg, data, clips, out, batch, features)
    n, n_cut = targets_out.segments, targets_out.truncated
    meta = {"segments": n, "tokens_per_segment": fe.n_mels, "dim": fe.segment_frames,
            "store": "mels", "encoder_sha256": "", "config": cfg.to_dict(),
            "truncated_targets": n_cut, "audio_seconds": n * fe.segment_seconds,
            "cache_seconds": time.time() - started}
    atomic_write_text(out / "meta.json", json.dumps(meta, indent=2))
    print(f"{out.name}: {n} segments of log-mel in {meta['cache_seconds']:.0f} s", flush=True)


def cache_holds(meta: dict) -> str:
    """What a cache folder holds: "mels", or the encoder kind whose features it stores."""
    if meta.get("store") == "mels":
        return "mels"
    return meta.get("config", {}).get("encoder_kind", "vit")


def model_for_cache(kind: str, meta: dict) -> ClefModel:
    """A new model of encoder `kind` for a cache (`meta` of its train split) made for it.

    Raises:
        ClefError: the cache holds another encoder's features, or features where the
            encoder trains and needs mels.
    """
    try:
        cfg = config_for(kind)
    except ModelError as exc:
        raise ClefError(str(exc)) from exc
    wanted = "mels" if trains_encoder(cfg) else kind
    if cache_holds(meta) != wanted:
        how = "--store mels" if wanted == "mels" else f"--kind {kind}"
        raise ClefError(f"this cache holds {cache_holds(meta)}; {kind} needs {wanted} "
                           f"(make it with `clef cache {how}`)")
    if not trains_encoder(cfg):
        cfg = replace(cfg, encoder_sha256=meta.get("encoder_sha256", ""))
    return ClefModel.build(cfg, with_encoder=trains_encoder(cfg))
