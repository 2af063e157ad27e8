""""Why this note?": where on the spectrogram the decoder looked when it wrote a note.

The note is looked for where the transcription writes it: in the windows of every reading
(`Transcriber.transcribe` reads the recording `passes` times, each on the segment grid moved
by k/passes of a segment) that hold its onset, decoded by the same call
(`Transcriber.decode_windows_with_roll`) on the same time base (a window's frame 0 centred on
its first sample). A reading writes the note when its decoder has a note-on of that pitch
within `TOLERANCE` of the onset, or else its roll head an onset there (the roll head's notes
are part of the transcription too).

For a decoder's note, the decoder's cross-attention (averaged over layers and heads) says
which 80-ms patch columns it read when writing the note-on token; within each column,
gradient x input on the frozen patches says which frequency patches carried that column's
evidence. Their product is a (rows x columns) map over the encoder's patch grid: the direct
evidence for "hearing as seeing" when a chord's notes light up as vertical structure. For a
note no decoder wrote, the map is gradient x input of the roll head's onset logit for that
key at that frame: where the evidence for (or against) an onset there lies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from clef_app.config import MIDI_MIN, FrontEndConfig
from clef_app.model.frontend import mel_to_image, n_segments, window_mels
from clef_app.model.inference import Transcriber
from clef_app.model.passes import TOLERANCE
from clef_app.model.rollnotes import MATCH_FRAMES
from clef_app.notation.codec import on_token, time_token


@dataclass(frozen=True)
class Explanation:
    """A map over the patch grid of one window; row 0 is the lowest frequency band."""

    weights: np.ndarray  # (rows, cols), sums to 1
    start: float  # s: where the window begins (its frame 0's centre)
    seconds_per_col: float  # s: width of one patch column
    found: bool  # whether some reading writes this note (its decoder or its roll head)
    decoded: int = 0  # readings whose decoder writes it
    rolled: int = 0  # readings whose roll head alone has its onset
    readings: int = 1  # readings the transcription makes
    first_sample: int = 0  # the window's frame 0 is centred on this sample (model's rate)
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)  # the image it maps

    @property
    def end(self) -> float:
        """s: where the map's last column ends."""
        return self.start + self.weights.shape[1] * self.seconds_per_col

    def summary(self) -> str:
        """How the transcription comes to write the note (or not), in a few words."""
        if self.decoded:
            return f"decoded in {self.decoded} of {self.readings} readings"
        if self.rolled:
            return f"written by the roll head in {self.rolled} of {self.readings} readings"
        return f"NOT written in any of the {self.readings} readings"


def explain_selected(samples: np.ndarray, sample_rate: int, onset: float, pitch: int,
                     path: str | Path | None = None) -> Explanation:
    """`explain_note` on the app's shared pipeline (the one Transcribe uses), for one note.

    Args:
        samples: the whole recording, mono, at `sample_rate` (resampled to the model's).
        onset: s, the note's onset; the windows holding it are decoded and explained.
        pitch: MIDI pitch of the note.
        path: the checkpoint (default: the installed one).
    Raises:
        ModelError: no model is installed, or it cannot be loaded.
    """
    from clef_app.model.pipeline import Pipeline

    return Pipeline.load(path).explain(samples, sample_rate, onset, pitch)


def reading_windows(t: Transcriber, onset: float, n_samples: int) -> list[tuple[int, int]]:
    """(reading, first sample) of every window the transcription reads that could write a
    note at `onset` (s): per reading, the window holding it and, within the tolerance of a
    window's start, the one before."""
    fe = t.fe
    seg, count = fe.segment_samples, max(1, t.options.passes)
    at = round(onset * fe.sample_rate)
    near = round(TOLERANCE * fe.sample_rate) + MATCH_FRAMES * fe.hop_length
    out = []
    for k in range(count):
        shift = k * seg // count
        last = n_segments(n_samples + shift, fe) - 1
        for j in sorted({(at - near + shift) // seg, (at + shift) // seg}):
            if 0 <= j <= last:
                out.append((k, j * seg - shift))
    return out


def explain_note(t: Transcriber, samples: np.ndarray, onset: float, pitch: int) -> Explanation:
    """Where the model looked to write `pitch` at `onset` (s), in the windows the
    transcription reads (`reading_windows`), decoded as it decodes them.

    Args:
        samples: mono float32 at the model's rate.
    """
    fe, model = t.fe, t.model
    windows = reading_windows(t, onset, len(samples))
    firsts = [first for _, first in windows]
    tokens, _, roll = t.decode_windows_with_roll(samples, firsts)
    frame_s = fe.hop_length / fe.sample_rate
    hits = [_note_token_index(seq, onset - first / fe.sample_rate, pitch, frame_s)
            for seq, first in zip(tokens, firsts, strict=True)]
    frames = [_frame_of(onset, first, t) for first in firsts]
    rolls = [roll is not None and t.options.roll_onset > 0 and _roll_onset(
        roll[i], frames[i], pitch) >= t.options.roll_onset for i in range(len(windows))]
    decoded = {k for (k, _), hit in zip(windows, hits, strict=True) if hit is not None}
    rolled = {k for (k, _), r in zip(windows, rolls, strict=True) if r} - decoded
    i = _best_window(hits, rolls, frames, fe.segment_frames)
    images = mel_to_image(window_mels(samples, [firsts[i]], fe), fe).to(t.device)
    with torch.no_grad():
        patches = model.encoder(images)
    if hits[i] is not None:
        col_attn, share = _attention_and_share(model, patches, tokens[i], hits[i])
        grid = share * col_attn[None, :]
    else:
        grid = _roll_saliency(model, patches, frames[i], pitch)
    grid = grid / max(float(grid.sum()), 1e-12)
    return Explanation(grid[::-1].copy(), firsts[i] / fe.sample_rate,
                       fe.segment_seconds / model.cols, bool(decoded or rolled), len(decoded),
                       len(rolled), max(1, t.options.passes), firsts[i], fe)


def _frame_of(onset: float, first: int, t: Transcriber) -> int:
    """The frame of a window (frame 0 centred on sample `first`) nearest `onset`, inside it."""
    frame = round((onset * t.fe.sample_rate - first) / t.fe.hop_length)
    return int(np.clip(frame, 0, t.fe.segment_frames - 1))


def _roll_onset(roll: np.ndarray, frame: int, pitch: int) -> float:
    """The roll head's highest onset probability for `pitch` within MATCH_FRAMES of `frame`.

    Args:
        roll: (frames, 2, 88) onset and frame probabilities of one window.
    """
    lo, hi = max(0, frame - MATCH_FRAMES), min(len(roll), frame + MATCH_FRAMES + 1)
    return float(roll[lo:hi, 0, pitch - MIDI_MIN].max()) if hi > lo else 0.0


def _best_window(hits: list[int | None], rolls: list[bool], frames: list[int],
                 length: int) -> int:
    """The window to explain: one whose decoder writes the note, else one whose roll head
    has it, else any; among those, the one where the onset lies most inside the window."""
    def rank(i: int) -> tuple[int, int]:
        kind = 0 if hits[i] is not None else 1 if rolls[i] else 2
        return kind, -min(frames[i], length - 1 - frames[i])

    return min(range(len(hits)), key=rank)


def _note_token_index(seq: list[int], local_onset: float, pitch: int, frame_s: float,
                      tolerance: float = TOLERANCE) -> int | None:
    """Index of the note-on token for `pitch` whose time is closest to `local_onset` (s
    from the window's frame 0), if one is within `tolerance` (and half a frame)."""
    best, best_dist, time = None, tolerance + frame_s / 2, 0
    for i, tok in enumerate(seq):
        if time_token(0) <= tok <= time_token(256):
            time = tok - time_token(0)
        elif tok == on_token(pitch) and abs(time * frame_s - local_onset) <= best_dist:
            best, best_dist = i, abs(time * frame_s - local_onset)
    return best


def _roll_saliency(model, patches: torch.Tensor, frame: int, pitch: int) -> np.ndarray:
    """Gradient x input on the patches of the roll head's onset logit for `pitch` at `frame`:
    (rows, cols), each patch's share of the evidence."""
    if model.roll_head is None:
        grid = np.zeros((model.rows, model.cols), dtype=np.float32)
        grid[:, min(frame // model.frames_per_col, model.cols - 1)] = 1.0
        return grid
    x = patches.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model.roll(model.bridge(x))
        logits[0, frame, 0, pitch - MIDI_MIN].backward()
    saliency = (x.grad * x).sum(-1).abs()[0].view(model.rows, model.cols)
    return saliency.detach().cpu().numpy()


def _attention_and_share(model, patches: torch.Tensor, seq: list[int], idx: int
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Cross-attention over columns for predicting token idx, and each patch's share."""
    layers = [b.cross_attn for b in model.decoder.blocks]
    for a in layers:
        a.captured = []
    x = patches.detach().clone().requires_grad_(True)
    prefix = torch.tensor([seq[:idx]], device=patches.device)
    try:
        logits = model.decoder(prefix, model.bridge(x))
        logits[0, -1, seq[idx]].backward()
        attn = torch.stack([a.captured[0][0, :, -1] for a in layers]).mean(dim=(0, 1))
    finally:
        for a in layers:
            a.captured = None
    saliency = (x.grad * x).sum(-1).abs()[0].view(model.rows, model.cols)
    share = saliency / saliency.sum(dim=0, keepdim=True).clamp(min=1e-12)
    return attn.detach().cpu().numpy(), share.detach().cpu().numpy()
