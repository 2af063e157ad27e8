""""Why this note?": where on the spectrogram the decoder looked when it wrote a note.

The decoder's cross-attention (averaged over layers and heads) says which 80-ms patch
columns it read when writing the note-on token; within each column, gradient x input on the
frozen patches says which frequency patches carried that column's evidence. Their product is
a (rows x columns) map over the encoder's patch grid: the direct evidence for "hearing as
seeing" when a chord's notes light up as vertical structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from clef_app.model.decoding import greedy_decode
from clef_app.model.frontend import mel_to_image, segment_mels
from clef_app.model.inference import Transcriber
from clef_app.notation.codec import on_token, time_token


@dataclass(frozen=True)
class Explanation:
    """A map over the patch grid of one segment; row 0 is the lowest frequency band."""

    weights: np.ndarray  # (rows, cols), sums to 1
    start: float  # s: where the segment begins
    seconds_per_col: float  # s: width of one patch column
    found: bool  # whether the decoder wrote this note in this segment

    @property
    def end(self) -> float:
        """s: where the map's last column ends."""
        return self.start + self.weights.shape[1] * self.seconds_per_col


def explain_selected(samples: np.ndarray, sample_rate: int, onset: float, pitch: int,
                     path: str | Path | None = None) -> Explanation:
    """`explain_note` on the app's shared pipeline (the one Transcribe uses), for one note.

    Args:
        samples: the whole recording, mono, at `sample_rate` (resampled to the model's).
        onset: s, the note's onset; its segment is the one decoded and explained.
        pitch: MIDI pitch of the note.
        path: the checkpoint (default: the installed one).
    Raises:
        ModelError: no model is installed, or it cannot be loaded.
    """
    from clef_app.model.pipeline import Pipeline

    return Pipeline.load(path).explain(samples, sample_rate, onset, pitch)


def explain_note(t: Transcriber, samples: np.ndarray, onset: float, pitch: int) -> Explanation:
    """Attention map for the note-on of `pitch` nearest `onset` (decoded afresh)."""
    fe, model = t.fe, t.model
    seg = int(onset // fe.segment_seconds)
    images = mel_to_image(segment_mels(samples, seg, 1, fe), fe).to(t.device)
    with torch.no_grad():
        patches = model.encoder(images)
        tokens, _ = greedy_decode(model, model.bridge(patches), fe.segment_frames)
    seq = tokens[0]
    frame_s = fe.hop_length / fe.sample_rate
    idx = _note_token_index(seq, onset - seg * fe.segment_seconds, pitch, frame_s)
    found = idx is not None
    idx = idx if found else len(seq) - 1
    col_attn, share = _attention_and_share(model, patches, seq, idx)
    grid = share * col_attn[None, :]
    grid = grid / max(float(grid.sum()), 1e-12)
    return Explanation(grid[::-1].copy(), seg * fe.segment_seconds,
                       fe.segment_seconds / model.cols, found)


def _note_token_index(seq: list[int], local_onset: float, pitch: int, frame_s: float) -> int | None:
    """Index of the ON token for `pitch` whose time is closest to `local_onset`."""
    best, best_dist, time = None, float("inf"), 0
    for i, tok in enumerate(seq):
        if time_token(0) <= tok <= time_token(256):
            time = tok - time_token(0)
        elif tok == on_token(pitch) and abs(time * frame_s - local_onset) < best_dist:
            best, best_dist = i, abs(time * frame_s - local_onset)
    return best


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
