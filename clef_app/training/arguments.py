"""The options of `clef train`, `clef cache` and `clef ablate` (which sets up the other two).

Kept apart from the code they drive, so that `clef train --help` and the others parse their
arguments without importing torch (7-8 s on a busy CPU): only argparse, paths and the
config's constants here.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clef_app.config import ENCODER_NAMES, FRONT_END_KINDS
from clef_app.model.weights import PROJECT_ROOT

KINDS = tuple(ENCODER_NAMES)  # encoder kinds (model/encoders/: vit, vit-scratch, whisper, cnn)
MAPS_DEV = PROJECT_ROOT.parent / "shared" / "data" / "maps-dev"


def default_data_dir() -> Path:
    return Path(os.environ.get("CLEF_DATA", Path.home() / ".cache" / "clef" / "data"))


def train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", type=Path, default=default_data_dir() / "cache")
    p.add_argument("--out", type=Path, default=Path("runs/clef"), help="run folder")
    p.add_argument("--resume", type=Path, default=None, help="checkpoint to start from")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--val-batches", type=int, default=20)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=0, help="stop after this wall time")
    p.add_argument("--roll-weight", type=float, default=5.0, help="weight of the roll loss")
    p.add_argument("--encoder-kind", default="vit", help="vit | vit-scratch | whisper | cnn")
    p.add_argument("--new-schedule", action="store_true",
                   help="with --resume: warm-up and cosine start again at the checkpoint's step "
                        "(fine-tuning on new data); --steps and --minutes count from there")
    p.add_argument("--bf16", action="store_true",
                   help="on the CPU, matrix products in bfloat16 (autocast; weights and optimizer "
                        "stay float32): on a CPU with AVX512-BF16 a step took 4.2 CPU-s "
                        "against 6.5-7.2 with the same losses to 0.03 (always on with CUDA)")


def cache_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=default_data_dir(), help="rendered data folder")
    p.add_argument("--out", type=Path, default=None, help="cache folder (default DATA/cache)")
    p.add_argument("--splits", nargs="+", default=["train", "val", "val_seen"])
    p.add_argument("--batch", type=int, default=32, help="segments per encoder batch")
    p.add_argument("--weights", default=None, help="ImageNet ViT weights (safetensors)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    p.add_argument("--part-clips", type=int, default=0,
                   help="write each split in parts of this many clips (SPLIT-00, SPLIT-01, ...), "
                        "so training can start on the parts already finished; finished parts "
                        "are skipped when the command runs again")
    p.add_argument("--kind", default="vit",
                   help="encoder whose features to store: vit | cnn (see model/encoders/)")
    p.add_argument("--front-end", choices=FRONT_END_KINDS, default="mel",
                   help="the image the encoder reads: mel rows, or log-frequency rows "
                        "(about 2.3 per semitone from A0; training takes it from the cache)")
    p.add_argument("--store", choices=("features", "mels"), default="features",
                   help="mels: normalised log-mels, for the encoders that train "
                        "(vit-scratch, whisper); default out DATA/cache-mels")


def ablate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="rendered data (clef build-data)")
    p.add_argument("--out", type=Path, required=True, help="folder for runs and tables")
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    p.add_argument("--caches", type=Path, default=None,
                   help="where the caches go (default OUT/caches)")
    p.add_argument("--vit-cache", type=Path, default=None,
                   help="an existing ViT feature cache to reuse read-only (default DATA/cache "
                        "if finished)")
    p.add_argument("--minutes", type=float, default=0.0,
                   help="training wall time per encoder (0 = none; then --samples decides)")
    p.add_argument("--samples", type=int, default=0,
                   help="training samples per encoder (steps = samples / batch)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=500, help="validation interval, steps")
    p.add_argument("--warmup", type=int, default=500,
                   help="learning-rate warm-up steps (at most a tenth of --samples' steps)")
    p.add_argument("--val-batches", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch threads for everything")
    p.add_argument("--device", default="cpu", help="cpu | cuda | mps | auto, for all steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-files", type=int, default=0,
                   help="held-out synthetic files to score (0 = all of DATA/clips/val)")
    p.add_argument("--real", type=Path, nargs="*", default=None,
                   help=f"real recordings with ground truth (default {MAPS_DEV})")
    p.add_argument("--real-files", type=int, default=0, help="at most this many (0 = all)")
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="score only the first seconds of each file (0 = whole files)")
