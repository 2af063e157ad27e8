"""Decoded audio is bounded by duration (4 h) and by memory (4 h at 48 kHz of frames, read
before resampling), both checked from the header before a sample is decoded. The files are
sparse: a header announcing hours, taking no disk."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest

from clef_app.audio.io import MAX_FRAMES, MAX_SECONDS, AudioError, load_audio


def sparse_wav(path: Path, rate: int, frames: int) -> Path:
    """An 8-bit mono WAV of `frames` frames, all but its header a hole in the file."""
    header = (b"RIFF" + struct.pack("<I", 36 + frames) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate, 1, 8)
              + b"data" + struct.pack("<I", frames))
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + frames)
    return path


@pytest.mark.parametrize(("rate", "frames", "needle"), [
    (8_000, MAX_SECONDS * 8_000 + 8_000, "longer than 4 hours"),
    (192_000, MAX_FRAMES + 192_000, "hours at 192000 Hz"),
])
def test_audio_over_the_bounds_is_refused_before_decoding(tmp_path, rate, frames, needle):
    path = sparse_wav(tmp_path / "long.wav", rate, frames)
    started = time.perf_counter()
    with pytest.raises(AudioError, match=needle):
        load_audio(path)
    assert time.perf_counter() - started < 1.0


def test_audio_within_the_bounds_opens(tmp_path):
    path = sparse_wav(tmp_path / "short.wav", 8_000, 8_000)
    assert load_audio(path).duration == pytest.approx(1.0)
