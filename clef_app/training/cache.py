"""`clef cache`: frozen-encoder features of every rendered clip, computed once.

The encoder is frozen, so the decoder trains from these features and never runs the ViT.
Layout under CACHE/<split>/: `features.f16` (N x tokens x dim, float16, raw), `tokens.npy`
(N x max_tokens int16, PAD-filled), `index.jsonl` (clip id and segment of each row), and
`meta.json` (shapes, and the config the features were made with).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from clef_app.atomic import atomic_write_text, atomic_writer, fsync_directory
from clef_app.audio.io import load_audio
from clef_app.config import MIDI_MIN, N_PITCHES, FrontEndConfig, ModelConfig
from clef_app.model.encoder import build_encoder
from clef_app.model.frontend import mel_to_image, n_segments, segment_mels
from clef_app.notation.codec import PAD, FrameNote, encode_segment, to_frames
from clef_app.notation.events import read_notes_tsv

MIN_LAST_SEGMENT = 0.4  # fraction: a clip's last, padded segment is kept if this much is audio


def large_allocations_to_mmap(threshold: int = 1 << 20) -> None:
    """Have glibc serve allocations above `threshold` bytes by mmap, handed back when freed.

    By default glibc raises that threshold as large blocks are freed (up to 32 MB), so the
    encoder's activations come from the heap, which fragments and grows over hours of
    caching (CNN features, 100 clips: +154 MB; with this, +21 MB). No-op without glibc.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, threshold)  # -3: M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def run(args: argparse.Namespace) -> int:
    if args.store != "features" or args.kind != "vit":
        from clef_app.training.kind_cache import run_kind

        return run_kind(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = ModelConfig(front_end=FrontEndConfig(kind=args.front_end))
    encoder, sha = build_encoder(cfg, args.weights)
    encoder.eval()
    out = args.out or args.data / "cache"
    clips = read_manifest(args.data / "manifest.jsonl")
    for split in args.splits:
        todo = [c for c in clips if c["split"] == split]
        size = args.part_clips or max(len(todo), 1)
        parts = [todo[i : i + size] for i in range(0, len(todo), size)]
        finished = (args.data / "READY").is_file()  # else the manifest is still growing
        for k, part in enumerate(parts):
            folder = out / (f"{split}-{k:02d}" if args.part_clips else split)
            if len(part) < size and not finished:
                print(f"{folder.name}: waiting for the build ({len(part)}/{size} clips)")
            elif not (folder / "meta.json").is_file():
                cache_split(encoder, cfg, sha, args.data, part, folder, args.batch)
    return 0


def read_manifest(path: Path) -> list[dict]:
    """Clips of a data build; a last line still being written is ignored."""
    clips = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            clips.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return clips


def segment_roll(frames: list[FrameNote], start: int, n_frames: int) -> np.ndarray:
    """(n_frames, 2, 88) bool onset and frame targets of one segment."""
    roll = np.zeros((n_frames, 2, N_PITCHES), dtype=bool)
    for n in frames:
        if n.off <= start or n.on >= start + n_frames:
            continue
        key = n.pitch - MIDI_MIN
        if n.on >= start:
            roll[n.on - start, 0, key] = True
        roll[max(n.on - start, 0) : n.off - start, 1, key] = True
    return roll


def clip_segments(audio_path: Path, notes_path: Path, cfg: ModelConfig
                  ) -> tuple[np.ndarray, list[list[int]], list[np.ndarray]]:
    """Samples of a clip, and the target tokens and packed rolls of each of its segments."""
    fe = cfg.front_end
    samples = load_audio(audio_path, fe.sample_rate).samples
    n = n_segments(len(samples), fe)
    last_part = len(samples) - (n - 1) * fe.segment_samples
    if n > 1 and last_part < MIN_LAST_SEGMENT * fe.segment_samples:
        n -= 1
    frames = to_frames(read_notes_tsv(notes_path))
    starts = [k * fe.segment_frames for k in range(n)]
    targets = [encode_segment(frames, s, fe.segment_frames) for s in starts]
    rolls = [np.packbits(segment_roll(frames, s, fe.segment_frames), axis=-1) for s in starts]
    return samples, targets, rolls


class TargetWriter:
    """A cache's targets (token rows, packed rolls) and index, written to disk as segments
    are cached, then stored as `tokens.npy`, `rolls.npy` and `index.jsonl`.

    Kept in lists instead, their many small arrays sat between the encoder's large
    short-lived ones and fragmented the heap: caching the CNN's features of the 30-h build
    grew to 18 GB and was killed for want of memory. The rows wait in anonymous temporary
    files (gone with the process if the run is killed); `close` writes each file atomically.
    """

    def __init__(self, out: Path, max_len: int) -> None:
        self.out, self.max_len = out, max_len
        self.segments, self.truncated = 0, 0
        self._tokens, self._rolls, self._index = (tempfile.TemporaryFile(dir=out)  # noqa: SIM115
                                                  for _ in range(3))  # closed in close()
        self._roll_shape: tuple[int, ...] | None = None

    def add(self, clip_id: str, targets: list[list[int]], rolls: list[np.ndarray]) -> None:
        """One clip's segments, in order."""
        rows, cut = token_rows(targets, self.max_len)
        self._tokens.write(rows.tobytes())
        for roll in rolls:
            self._roll_shape = roll.shape
            self._rolls.write(np.ascontiguousarray(roll, dtype=np.uint8).tobytes())
        self._index.writelines((json.dumps({"clip": clip_id, "segment": k}) + "\n").encode()
                               for k in range(len(targets)))
        self.segments += len(targets)
        self.truncated += cut

    def close(self) -> None:
        """Write `tokens.npy`, `rolls.npy` and `index.jsonl` (each atomically)."""
        try:
            for f, name, dtype, shape in (
                    (self._tokens, "tokens.npy", np.int16, (self.max_len,)),
                    (self._rolls, "rolls.npy", np.uint8, self._roll_shape or ())):
                f.seek(0)
                rows = np.fromfile(f, dtype=dtype).reshape(self.segments, *shape)
                with atomic_writer(self.out / name) as stream:
                    np.save(stream, rows)
            self._index.seek(0)
            with atomic_writer(self.out / "index.jsonl") as stream:
                shutil.copyfileobj(self._index, stream)
        finally:
            for f in (self._tokens, self._rolls, self._index):
                f.close()


def token_rows(targets: list[list[int]], max_len: int) -> tuple[np.ndarray, int]:
    """(N, max_len) int16 PAD-filled target rows, and how many were cut (they lose EOS:
    a cut, not an end)."""
    rows = np.full((len(targets), max_len), PAD, dtype=np.int16)
    for k, tok in enumerate(targets):
        rows[k, : min(len(tok), max_len)] = tok[:max_len]
    return rows, sum(len(t) > max_len for t in targets)


def cache_split(encoder: torch.nn.Module, cfg: ModelConfig, sha: str, data: Path,
                clips: list[dict], out: Path, batch: int) -> None:
    """Encode every segment of `clips` into `out` (overwrites)."""
    started = time.time()

    def features(samples: np.ndarray, first: int, count: int) -> np.ndarray:
        with torch.no_grad():
            images = mel_to_image(segment_mels(samples, first, count, cfg.front_end),
                                  cfg.front_end)
            return encoder(images).half().numpy()

    targets_out = write_segments(cfg, data, clips, out, batch, features)
    n_rows, n_truncated = targets_out.segments, targets_out.truncated
    seconds = n_rows * cfg.front_end.segment_seconds
    meta = {"segments": n_rows, "tokens_per_segment": int(encoder.grid[0] * encoder.grid[1]),
            "dim": cfg.encoder_dim, "encoder_sha256": sha, "config": cfg.to_dict(),
            "truncated_targets": n_truncated, "audio_seconds": seconds,
            "cache_seconds": time.time() - started}
    atomic_write_text(out / "meta.json", json.dumps(meta, indent=2))
    print(f"{out.name}: {n_rows} segments ({seconds / 3600:.2f} h audio) in "
          f"{meta['cache_seconds']:.0f} s = "
          f"{seconds / max(meta['cache_seconds'], 1e-9):.0f}x real time")


def write_segments(cfg: ModelConfig, data: Path, clips: list[dict], out: Path, batch: int,
                   features: Callable[[np.ndarray, int, int], np.ndarray]) -> TargetWriter:
    """Write `features.f16` (the float16 rows `features(samples, first, count)` gives for
    each batch of a clip's segments) and the targets of every segment of `clips` into `out`.

    Every file is written atomically, and a `meta.json` already there (the mark of a
    finished folder, which the caller writes last) is removed first: a run killed midway
    leaves no file that loads as a finished cache, and no half file at all.
    """
    large_allocations_to_mmap()
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)
    fsync_directory(out)
    started = time.time()
    targets_out = TargetWriter(out, cfg.max_tokens)
    with atomic_writer(out / "features.f16") as feats:
        for i, clip in enumerate(clips):
            base = data / "clips" / clip["split"] / clip["id"]
            samples, targets, rolls = clip_segments(base.with_suffix(".flac"),
                                             base.with_name(clip["id"] + ".notes.tsv"), cfg)
            for first in range(0, len(targets), batch):
                count = min(batch, len(targets) - first)
                feats.write(np.ascontiguousarray(features(samples, first, count),
                                                 dtype=np.float16).tobytes())
            targets_out.add(clip["id"], targets, rolls)
            if i % 50 == 0:
                print(f"{out.name}: {i + 1}/{len(clips)} clips, {targets_out.segments} "
                      f"segments, {time.time() - started:.0f} s", flush=True)
    targets_out.close()
    return targets_out
