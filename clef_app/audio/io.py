"""Reading audio files: any rate, any channel count, clear errors for what cannot be read.

Files are read in blocks and mixed to mono as they arrive, so memory holds the mono result
and one block, whatever the channel count; a one-hour recording costs its mono samples only.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

MAX_SECONDS = 4 * 3600  # s: longer files are refused rather than filling memory
MAX_NATIVE_RATE = 48_000  # Hz: higher rates are resampled to this when no rate is asked for
BLOCK_FRAMES = 1 << 18  # frames read at a time (~5 s at 48 kHz)


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
    from scipy.signal import resample_poly  # ~1 s to import: not at start-up

    g = gcd(int(from_rate), int(to_rate))
    return resample_poly(samples, to_rate // g, from_rate // g).astype(np.float32)


def load_audio(path: str | Path, sample_rate: int | None = None) -> Audio:
    """Read WAV/FLAC/OGG/MP3 (libsndfile), mix to mono, optionally resample.

    Non-finite samples become silence and samples beyond full scale are clipped. Without
    `sample_rate`, files above MAX_NATIVE_RATE come back at MAX_NATIVE_RATE.

    Raises:
        AudioError: the file is missing, not audio, empty, too long, or holds no finite samples.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path.name}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name}: the file is empty (0 bytes)")
    try:
        with sf.SoundFile(str(path)) as f:
            mono, finite = _read_mono(f, path.name)
            rate = int(f.samplerate)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"{path.name}: {_not_audio(path, exc)}") from exc
    except (ValueError, OSError, EOFError, MemoryError) as exc:
        raise AudioError(f"{path.name}: the audio data is damaged ({_short(exc)})") from exc
    if len(mono) == 0:
        raise AudioError(f"{path.name}: the file holds no audio (0 samples)")
    if not finite:
        raise AudioError(f"{path.name}: every sample is NaN or infinite")
    target = sample_rate if sample_rate is not None else min(rate, MAX_NATIVE_RATE)
    if target != rate:
        mono = np.clip(resample(mono, rate, target), -1.0, 1.0)
    return Audio(np.ascontiguousarray(mono, dtype=np.float32), int(target))


def _read_mono(f: sf.SoundFile, name: str) -> tuple[np.ndarray, bool]:
    """All frames of an open file mixed to mono; and whether any sample was finite."""
    if f.samplerate <= 0 or f.channels <= 0:
        raise AudioError(f"{name}: the header gives no sample rate or channels")
    limit = MAX_SECONDS * f.samplerate
    if f.frames > limit:
        raise AudioError(f"{name}: longer than {MAX_SECONDS // 3600} hours")
    out = np.empty(max(0, min(f.frames, limit)), dtype=np.float32)
    block = np.empty((BLOCK_FRAMES, f.channels), dtype=np.float32)
    filled, finite = 0, False
    while True:
        n = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True, out=block).shape[0]
        if n == 0:
            break
        if filled + n > limit:
            raise AudioError(f"{name}: longer than {MAX_SECONDS // 3600} hours")
        mix = block[:n].mean(axis=1, dtype=np.float32) if f.channels > 1 else block[:n, 0]
        good = np.isfinite(mix)
        finite = finite or bool(good.any())
        mix = np.clip(np.where(good, mix, 0.0), -1.0, 1.0, dtype=np.float32)
        if filled + n > len(out):  # the header undercounted (some MP3s): grow
            out = np.resize(out, max(2 * len(out), filled + n))
        out[filled : filled + n] = mix
        filled += n
    if filled < len(out) // 2:  # the header overcounted (a truncated file): give memory back
        return out[:filled].copy(), finite
    return out[:filled], finite


def _not_audio(path: Path, exc: Exception) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"MThd":
        return "a MIDI file, not a recording (import it as notes instead)"
    return f"not a readable audio file ({_short(exc)})"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
