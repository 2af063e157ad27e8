"""Adapt the model to the user's instrument from the passages they corrected.

Every corrected passage is a labelled example of their piano in their room. `adapt` takes
the 2.56-s segments of their projects that hold a correction (a note they added, moved,
resized, changed or marked as right, or one they deleted: the passages they have checked),
with the project's notes as the targets, and fine-tunes what the shipped model trains
(the column bridge, the decoder and the roll head; never the frozen ViT) at a small learning
rate, so what it knows of other pianos is kept. The frozen encoder's features of each
segment are computed once. The result is a personal checkpoint (safetensors + JSON, with the
base model's tuned decoding options); the bundled model is never written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from clef_app.errors import ClefError
from clef_app.model.clef_model import ClefModel
from clef_app.model.frontend import mel_to_image, window_mels
from clef_app.notation.codec import PAD, encode_segment, to_frames
from clef_app.notation.corrections import Corrections
from clef_app.notation.events import NoteEvent
from clef_app.training.cache import segment_roll
from clef_app.training.train import losses

MIN_CORRECTIONS = 20  # corrections in all (touched + deleted notes): fewer teach nothing
MIN_SEGMENTS = 8  # corrected 2.56-s segments in all (about 20 s of checked audio)
# tiny: at 3e-5, 24 steps on one corrected piece (maps-dev scn15_12) cost other pieces of the
# same piano 0.20 onset F1 and renders 0.17 (the model then wrote 40 % fewer notes); 1e-5
# cost 0.11, 3e-6 0.02 on renders; 1e-6 was neutral (+0.007, renders +0.006). Chosen on
# maps-dev's chpn-e01 and mz_331_3 (close mics) and renders val_000024-29; 78 steps on three
# pieces at 1e-6 still cost renders 0.023 (README, issue 19)
LEARNING_RATE = 1e-6
ROLL_WEIGHT = 5.0  # as `clef train`
BATCH = 8  # segments per step
# the base checkpoint's tuned decoding options, kept (without restrike_gap, v6's readings
# lost 0.02 onset F1 on maps-dev's close-mic pieces chpn-e01 and mz_331_3)
BASE_KEYS = ("min_confidence", "roll_onset", "roll_sustain", "roll_confidence", "passes",
             "restrike_gap", "calibration")


class AdaptError(ClefError):
    """Adaptation cannot run: too few corrections, or nothing to learn from."""


@dataclass
class Corrected:
    """One project's recording (mono, the model's rate), its notes and what was corrected."""

    name: str
    samples: np.ndarray
    notes: list[NoteEvent]
    corrections: Corrections


@dataclass
class Segments:
    """Training examples: frozen-encoder features, target tokens (PAD-padded), rolls."""

    feats: torch.Tensor  # (N, rows * cols, encoder_dim)
    tokens: torch.Tensor  # (N, T) long
    rolls: torch.Tensor  # (N, frames, 2, 88) float


def corrected_segments(item: Corrected, segment_frames: int, fps: int) -> list[int]:
    """Start frames of the segments holding a correction."""
    live = {n.id: n for n in item.notes}
    times = [live[i].onset for i in item.corrections.touched if i in live]
    times += [n.onset for n in item.corrections.deleted]
    return sorted({int(t * fps) // segment_frames * segment_frames for t in times})


def check_enough(items: Sequence[Corrected], segment_frames: int, fps: int) -> None:
    """Raise AdaptError, saying what is missing, when the corrections are too few."""
    count = sum(len(i.corrections.touched & {n.id for n in i.notes})
                + len(i.corrections.deleted) for i in items)
    segs = sum(len(corrected_segments(i, segment_frames, fps)) for i in items)
    seconds = segs * segment_frames / fps
    if count < MIN_CORRECTIONS or segs < MIN_SEGMENTS:
        raise AdaptError(
            f"too few corrections to learn from: {count} corrected notes in {seconds:.0f} s "
            f"of checked audio; adapting needs at least {MIN_CORRECTIONS} corrected notes in "
            f"{MIN_SEGMENTS * segment_frames / fps:.0f} s (correct more of the recording, "
            "or mark the notes that are right with K)")


@torch.no_grad()
def build_segments(model: ClefModel, items: Sequence[Corrected],
                   progress: Callable[[int, int], None] | None = None) -> Segments:
    """The corrected segments of every project, encoded once by the frozen encoder;
    `progress(done, total)` is called after each batch of segments."""
    fe = model.cfg.front_end
    fps = fe.sample_rate // fe.hop_length
    feats, tokens, rolls = [], [], []
    total = sum(len(corrected_segments(i, fe.segment_frames, fps)) for i in items)
    model.eval()
    for item in items:
        frames = to_frames(item.notes, fps)
        starts = corrected_segments(item, fe.segment_frames, fps)
        for i in range(0, len(starts), BATCH):
            chunk = starts[i:i + BATCH]
            images = mel_to_image(window_mels(item.samples, [s * fe.hop_length for s in chunk],
                                              fe), fe)
            feats.append(model.encoder(images).float())
            for s in chunk:
                seq = encode_segment(frames, s, fe.segment_frames)[:model.cfg.max_tokens]
                tokens.append(torch.tensor(seq))
                rolls.append(torch.from_numpy(segment_roll(frames, s, fe.segment_frames)))
            if progress is not None:
                progress(len(tokens), total)
    padded = torch.nn.utils.rnn.pad_sequence(tokens, batch_first=True, padding_value=PAD)
    return Segments(torch.cat(feats), padded, torch.stack(rolls).float())


def trainable(model: ClefModel) -> list[torch.nn.Parameter]:
    """The bridge's, decoder's and roll head's parameters; the encoder is frozen."""
    if model.encoder is not None:
        model.encoder.requires_grad_(False)
    parts = [model.bridge, model.decoder] + ([model.roll_head] if model.roll_head else [])
    return [p for part in parts for p in part.parameters()]


def mean_loss(model: ClefModel, data: Segments) -> float:
    """The combined loss over every segment (eval mode, no dropout)."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(data.tokens), BATCH):
            ce, bce = losses(model, data.feats[i:i + BATCH], data.tokens[i:i + BATCH],
                             data.rolls[i:i + BATCH])
            total += float(ce + ROLL_WEIGHT * bce) * len(data.tokens[i:i + BATCH])
    return total / max(1, len(data.tokens))


def fine_tune(model: ClefModel, data: Segments, steps: int, seed: int = 0,
              cancel: Callable[[], bool] | None = None) -> Iterator[tuple[int, float]]:
    """Train for `steps` batches; yields (step, loss) after each. Stops when cancelled."""
    params = trainable(model)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=LEARNING_RATE, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    model.train()
    if model.encoder is not None:
        model.encoder.eval()
    for step in range(1, steps + 1):
        if cancel is not None and cancel():
            return
        pick = torch.from_numpy(rng.choice(len(data.tokens), min(BATCH, len(data.tokens)),
                                           replace=False))
        ce, bce = losses(model, data.feats[pick], data.tokens[pick], data.rolls[pick])
        loss = ce + ROLL_WEIGHT * bce
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        yield step, float(loss.detach())
    model.eval()


def steps_for(data: Segments, epochs: float) -> int:
    return max(1, math.ceil(epochs * len(data.tokens) / BATCH))


def save_personal(model: ClefModel, out: Path, base_path: Path, base_meta: dict,
                  info: dict) -> None:
    """The adapted checkpoint and its JSON (the base's tuned decoding options kept)."""
    from clef_app.model.checkpoint import save_checkpoint
    from clef_app.model.location import BUNDLED

    if out.resolve() == BUNDLED.resolve() or out.resolve() == base_path.resolve():
        raise AdaptError(f"{out}: that is the model adapted from; write a personal one")
    extra = {k: base_meta[k] for k in BASE_KEYS if k in base_meta}
    extra["adapted"] = {"from": base_path.name, "at": time.strftime("%Y-%m-%d %H:%M"), **info}
    save_checkpoint(model, out, extra, half=False)
