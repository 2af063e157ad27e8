"""Log-mel in numpy, and the mel <-> pitch geometry the views share.

No torch here: the GUI draws with these, and opening a recording must not load the model
stack. The model's batched front end (`clef_app.model.frontend.log_mel_db`) computes the
same log-mel with torchaudio (HTK mel scale, no filter normalisation, periodic Hann window,
reflect-padded centred frames); tests/audio/test_features.py checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from clef_app.config import FrontEndConfig

POWER_FLOOR = 1e-10  # added to mel power before the log: silence is -100 dB
DISPLAY_CHUNK_SECONDS = 5.0  # s of audio per FFT batch: ~20 MB of working memory


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale, as torchaudio's MelSpectrogram uses by default."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def pitch_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def pitch_to_row(pitch: np.ndarray | float, fe: FrontEndConfig = FrontEndConfig()) -> np.ndarray:
    """Fractional mel-row index (0 = lowest row) where a pitch's fundamental lies.

    Row k of the spectrogram is the filter centred at the (k+1)-th of n_mels+2 equally
    spaced mel points between f_min and f_max, so its centre is at mel position k + 1.
    """
    lo, hi = hz_to_mel(fe.f_min), hz_to_mel(fe.f_max)
    step = (hi - lo) / (fe.n_mels + 1)
    return (hz_to_mel(pitch_to_hz(pitch)) - lo) / step - 1.0


def row_to_pitch(row: np.ndarray | float, fe: FrontEndConfig = FrontEndConfig()) -> np.ndarray:
    """Inverse of `pitch_to_row` (fractional MIDI pitch)."""
    lo, hi = hz_to_mel(fe.f_min), hz_to_mel(fe.f_max)
    step = (hi - lo) / (fe.n_mels + 1)
    hz = mel_to_hz(lo + (np.asarray(row, dtype=np.float64) + 1.0) * step)
    return 69.0 + 12.0 * np.log2(np.maximum(hz, 1e-6) / 440.0)


@lru_cache(maxsize=4)
def mel_filterbank(fe: FrontEndConfig = FrontEndConfig()) -> np.ndarray:
    """Triangular HTK mel filters, unnormalised (torchaudio's `melscale_fbanks` defaults).

    Filter k rises from mel point k to k + 1 and falls to k + 2 of n_mels + 2 points
    equally spaced between f_min and f_max; weights are linear in Hz.

    Returns:
        (n_fft // 2 + 1, n_mels) float32, read-only.
    """
    bins = np.linspace(0.0, fe.sample_rate // 2, fe.n_fft // 2 + 1)  # Hz of each FFT bin
    edges = mel_to_hz(np.linspace(hz_to_mel(fe.f_min), hz_to_mel(fe.f_max), fe.n_mels + 2))
    width = np.diff(edges)  # (n_mels + 1,)
    to_edge = edges[None, :] - bins[:, None]  # (n_bins, n_mels + 2)
    rising = -to_edge[:, :-2] / width[:-1]
    falling = to_edge[:, 2:] / width[1:]
    fbank = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    fbank.flags.writeable = False
    return fbank


@lru_cache(maxsize=4)
def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (n,) float32, as `torch.hann_window(n)`; read-only."""
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)).astype(np.float32)
    window.flags.writeable = False
    return window


def log_mel_frames(samples: np.ndarray, fe: FrontEndConfig = FrontEndConfig()) -> np.ndarray:
    """Log-mel power in dB of every whole frame in `samples`, frame i starting at sample
    i * hop (no padding: the caller supplies the context).

    Args:
        samples: (n,) mono float32 audio at fe.sample_rate.
    Returns:
        (max(0, (n - n_fft) // hop + 1), n_mels) float32 dB.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if len(samples) < fe.n_fft:
        return np.zeros((0, fe.n_mels), dtype=np.float32)
    frames = sliding_window_view(samples, fe.n_fft)[:: fe.hop_length]  # a view, no copy
    spectrum = np.fft.rfft(frames * hann_window(fe.n_fft), axis=-1)  # complex64
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    mel = power @ mel_filterbank(fe)
    mel += POWER_FLOOR
    return np.multiply(np.log10(mel, out=mel), 10.0, out=mel)


def display_spectrogram(samples: np.ndarray, fe: FrontEndConfig = FrontEndConfig(),
                        chunk_seconds: float = DISPLAY_CHUNK_SECONDS,
                        cancelled: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Whole-file log-mel in dB for display, computed in chunks to bound memory.

    Frame i is centred on sample i * hop; the file is reflected at both ends, like a
    centred torchaudio MelSpectrogram of the whole file. `cancelled` is asked between
    chunks (a chunk takes well under a second), so closing the app never waits for a long
    file's spectrogram.

    Returns:
        (1 + n_samples // hop, n_mels) float32 dB (time first, as image views expect), or
        None when cancelled.
    """
    x = np.asarray(samples, dtype=np.float32)
    out = np.empty((1 + max(1, len(x)) // fe.hop_length, fe.n_mels), dtype=np.float32)
    step = max(1, int(chunk_seconds * fe.sample_rate) // fe.hop_length)  # frames per chunk
    for first, block in mel_blocks(x, fe, step):
        if cancelled is not None and cancelled():
            return None
        out[first : first + len(block)] = block
    return out


def mel_blocks(samples: np.ndarray, fe: FrontEndConfig = FrontEndConfig(),
               block_frames: int = 2048) -> Iterator[tuple[int, np.ndarray]]:
    """`display_spectrogram` block by block: (first frame, (frames, n_mels) dB)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.size == 0:
        x = np.zeros(1, dtype=np.float32)
    hop, half = fe.hop_length, fe.n_fft // 2
    n_frames = 1 + len(x) // hop
    for first in range(0, n_frames, block_frames):
        count = min(block_frames, n_frames - first)
        start = first * hop - half
        yield first, log_mel_frames(_reflected(x, start, start + (count - 1) * hop + fe.n_fft),
                                    fe)


def _reflected(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """x[start:stop] with indices outside x reflected about its first and last samples
    (edge not repeated, as torch's "reflect" padding); a view when nothing is outside."""
    if start >= 0 and stop <= len(x):
        return x[start:stop]
    index = np.abs(np.arange(start, stop))
    index = (len(x) - 1) - np.abs((len(x) - 1) - index)
    return x[np.clip(index, 0, len(x) - 1)]  # clip: a file shorter than the padding
