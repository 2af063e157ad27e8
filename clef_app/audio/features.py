"""Log-mel features (torchaudio) and the mel <-> pitch geometry the views share."""

from __future__ import annotations

import numpy as np
import torch
import torchaudio

from clef_app.config import DB_FLOOR, FrontEndConfig


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


_MEL_CACHE: dict[tuple, torchaudio.transforms.MelSpectrogram] = {}


def _mel_transform(fe: FrontEndConfig, center: bool = True) -> torchaudio.transforms.MelSpectrogram:
    key = (fe.sample_rate, fe.n_fft, fe.hop_length, fe.n_mels, fe.f_min, fe.f_max, center)
    if key not in _MEL_CACHE:
        _MEL_CACHE[key] = torchaudio.transforms.MelSpectrogram(
            sample_rate=fe.sample_rate,
            n_fft=fe.n_fft,
            hop_length=fe.hop_length,
            n_mels=fe.n_mels,
            f_min=fe.f_min,
            f_max=fe.f_max,
            power=2.0,
            center=center,
        )
    return _MEL_CACHE[key]


def log_mel_db(
    samples: np.ndarray | torch.Tensor, fe: FrontEndConfig = FrontEndConfig(), center: bool = True
) -> torch.Tensor:
    """Log-mel power in dB.

    Args:
        samples: (..., n_samples) mono float audio at fe.sample_rate.
        center: pad n_fft/2 on each side (frame i centred at sample i * hop); without it,
            frame i starts at sample i * hop and the caller supplies the context.
    Returns:
        (..., n_mels, n_frames) float32 dB.
    """
    x = torch.as_tensor(samples, dtype=torch.float32)
    with torch.no_grad():
        mel = _mel_transform(fe, center)(x)
    return 10.0 * torch.log10(mel + 1e-10)


def normalise_db(db: torch.Tensor, fe: FrontEndConfig = FrontEndConfig()) -> torch.Tensor:
    """Map dB to [0, 1]: each segment's loudest bin to 1, db_range below it to 0.

    Args:
        db: (..., n_mels, n_frames); the maximum is taken over the last two axes.
    """
    top = db.amax(dim=(-2, -1), keepdim=True).clamp(min=DB_FLOOR + fe.db_range)
    return ((db - (top - fe.db_range)) / fe.db_range).clamp(0.0, 1.0)


def display_spectrogram(samples: np.ndarray, fe: FrontEndConfig = FrontEndConfig(),
                        chunk_seconds: float = 60.0) -> np.ndarray:
    """Whole-file log-mel in dB for display, computed in chunks to bound memory.

    Returns:
        (n_frames, n_mels) float32 dB (time first, as image views expect).
    """
    hop, chunk = fe.hop_length, int(chunk_seconds * fe.sample_rate) // fe.hop_length * fe.hop_length
    pad = -(-(fe.n_fft // 2) // hop) * hop  # whole hops of context either side
    out = []
    for start in range(0, max(len(samples), 1), chunk):
        lo = max(0, start - pad)
        piece = samples[lo : start + chunk + pad]
        db = log_mel_db(piece, fe).numpy()
        first = (start - lo) // hop
        n = min(chunk, len(samples) - start) // hop + (1 if start + chunk >= len(samples) else 0)
        out.append(db[:, first : first + n])
    return np.ascontiguousarray(np.concatenate(out, axis=1).T, dtype=np.float32)
