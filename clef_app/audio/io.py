"""Reading audio files: any rate, any channel count, clear errors for what cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

MAX_SECONDS = 4 * 3600  # s: longer files are refused rather than filling memory


class AudioError(Exception):
    """A file that cannot be used as audio; the message names the file and why."""


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling of a 1-D signal (anti-aliased)."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    g = gcd(int(from_rate), int(to_rate))
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def load_audio(path: str | Path, sample_rate: int | None = None) -> Audio:
    """Read WAV/FLAC/OGG/MP3 (libsndfile), mix to mono, optionally resample.

    Raises:
        AudioError: the file is missing, not audio, empty, too long, or holds no finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: no such file")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile names the format problem
        raise AudioError(f"{path.name}: not a readable audio file ({_short(exc)})") from exc
    if info.samplerate <= 0 or info.channels <= 0:
        raise AudioError(f"{path.name}: the header gives no sample rate or channels")
    if info.frames > MAX_SECONDS * info.samplerate:
        raise AudioError(f"{path.name}: longer than {MAX_SECONDS // 3600} hours")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{path.name}: the audio data is damaged ({_short(exc)})") from exc
    if data.shape[0] == 0:
        raise AudioError(f"{path.name}: the file holds no audio (0 samples)")
    mono = data.mean(axis=1)
    bad = ~np.isfinite(mono)
    if bad.all():
        raise AudioError(f"{path.name}: every sample is NaN or infinite")
    if bad.any():
        mono = np.where(bad, 0.0, mono).astype(np.float32)
    mono = np.clip(mono, -1.0, 1.0)
    if sample_rate is not None:
        mono = resample(mono, rate, sample_rate)
        rate = sample_rate
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), int(rate))


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
