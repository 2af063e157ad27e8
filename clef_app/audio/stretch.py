"""Time-stretching without changing pitch: a phase vocoder with identity phase locking.

Laroche & Dolson (1999): each spectral peak's phase advances at its measured instantaneous
frequency; the bins around a peak keep their phase offset to it, which keeps partials
coherent (far less "phasiness" than a plain phase vocoder). Analysis frames sit at
t * speed * hop, synthesis frames at t * hop, both centred, so output sample m holds the
input around sample m * speed: the mapping from output to source time is exactly linear.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

WINDOW_SECONDS = 0.046  # s: analysis window (~2048 samples at 44.1 kHz), resolves piano partials
OVERLAP = 4  # synthesis hop = window / OVERLAP
CHUNK_FRAMES = 256  # frames transformed per batched FFT (bounds memory)


def window_size(rate: int) -> int:
    """A power of two near WINDOW_SECONDS at `rate` Hz."""
    return int(2 ** round(np.log2(rate * WINDOW_SECONDS)))


def stretch(x: np.ndarray, speed: float, rate: int,
            cancel: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Play `x` at `speed` (0.5 = half as fast) without changing its pitch.

    Args:
        x: (n,) or (channels, n) float32; channels are stretched with one shared frame grid.
        speed: playback speed; the output is about n / speed samples long.
        rate: sample rate in Hz (sets the window size).
        cancel: checked between chunks; when it returns True, None is returned.
    Returns:
        float32 of shape (..., ceil(n / speed)), or None if cancelled.
    """
    x = np.asarray(x, dtype=np.float32)
    if abs(speed - 1.0) < 1e-9:
        return x.copy()
    mono = x.ndim == 1
    x2 = x[None] if mono else x
    n_fft = window_size(rate)
    hop = n_fft // OVERLAP
    half = n_fft // 2
    n_out = int(np.ceil(x2.shape[1] / speed))
    n_frames = n_out // hop + 2
    centres = np.round(np.arange(n_frames) * hop * speed).astype(np.int64)
    padded = np.pad(x2, ((0, 0), (half, half + n_fft + int(hop * speed) + 1)))
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)

    out = np.zeros((x2.shape[0], n_out + n_fft + hop), dtype=np.float32)
    norm = np.zeros(n_out + n_fft + hop, dtype=np.float32)
    locker = _PhaseLocker(x2.shape[0], n_fft, hop)
    for first in range(0, n_frames, CHUNK_FRAMES):
        if cancel is not None and cancel():
            return None
        idx = centres[first : first + CHUNK_FRAMES]
        frames = padded[:, idx[:, None] + np.arange(n_fft)] * window  # (C, T, n_fft)
        steps = np.diff(np.concatenate([[centres[first - 1] if first else 0], idx]))
        spectra = locker.process(np.fft.rfft(frames, axis=-1), steps)
        frames = np.fft.irfft(spectra, n=n_fft, axis=-1).astype(np.float32) * window
        for t in range(frames.shape[1]):
            pos = (first + t) * hop
            out[:, pos : pos + n_fft] += frames[:, t]
            norm[pos : pos + n_fft] += window * window
    y = out[:, half : half + n_out] / np.maximum(norm[half : half + n_out], 1e-3)
    return y[0] if mono else y


class _PhaseLocker:
    """Phase propagation across frames for every channel (identity phase locking)."""

    def __init__(self, channels: int, n_fft: int, hop: int) -> None:
        self.hop = hop
        bins = n_fft // 2 + 1
        self.omega = 2 * np.pi * np.arange(bins) / n_fft  # rad/sample of each bin centre
        self.prev_phase: np.ndarray | None = None  # (C, bins) analysis phase of the last frame
        self.out_phase = np.zeros((channels, bins))

    def process(self, spectra: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Re-phase analysis frames (C, T, bins); frame t was taken steps[t] samples after t-1."""
        mag, phase = np.abs(spectra), np.angle(spectra)
        prev = np.concatenate([phase[:, :1] if self.prev_phase is None else
                               self.prev_phase[:, None], phase[:, :-1]], axis=1)
        step = steps[None, :, None].astype(np.float64)
        dev = phase - prev - self.omega * step
        dev -= 2 * np.pi * np.round(dev / (2 * np.pi))
        advance = (self.omega + dev / np.maximum(step, 1.0)) * self.hop  # rad per synthesis hop
        owner = _nearest_peak(mag)  # (C, T, bins)
        offset = phase - np.take_along_axis(phase, owner, axis=-1)
        out = np.empty_like(phase)
        current = self.out_phase
        for t in range(phase.shape[1]):
            if self.prev_phase is None and t == 0:
                current = phase[:, 0].copy()  # the first frame keeps its own phases
            else:
                o = owner[:, t]
                current = np.take_along_axis(current + advance[:, t], o, axis=-1) + offset[:, t]
            out[:, t] = current
        self.out_phase, self.prev_phase = current, phase[:, -1]
        return mag * np.exp(1j * out)


def _nearest_peak(mag: np.ndarray) -> np.ndarray:
    """For every bin, the index of the nearest local maximum (over +-2 bins) along the last axis."""
    n = mag.shape[-1]
    pad = np.full(mag.shape[:-1] + (2,), -1.0)
    p = np.concatenate([pad, mag, pad], axis=-1)
    c = p[..., 2:-2]
    is_peak = (c > p[..., :-4]) & (c > p[..., 1:-3]) & (c >= p[..., 3:-1]) & (c >= p[..., 4:])
    bins = np.arange(n)
    below = np.maximum.accumulate(np.where(is_peak, bins, -1), axis=-1)
    above = np.flip(np.minimum.accumulate(np.flip(np.where(is_peak, bins, n), -1), axis=-1), -1)
    use_above = (below < 0) | ((above < n) & (above - bins < bins - below))
    owner = np.where(use_above, above, below)
    return np.where((owner < 0) | (owner >= n), bins, owner)  # frames without peaks: own bin
