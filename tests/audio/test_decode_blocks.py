"""Decoding a recording block by block (`decode_blocks`): the header first, then the array
filling in, ending in exactly what `load_audio` reads."""

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.io import (
    BLOCK_FRAMES,
    AudioError,
    decode_at_most,
    decode_blocks,
    header,
    load_audio,
)
from clef_app.notation.steps import Cancelled, stop_when


def _drain(steps):
    items = []
    try:
        while True:
            items.append(next(steps))
    except StopIteration as done:
        return items, done.value


def test_the_header_comes_first_then_blocks_fill_the_same_array(tmp_path):
    rate, seconds = 44_100, 20.0
    stereo = np.random.default_rng(0).uniform(-0.5, 0.5, (int(rate * seconds), 2))
    path = tmp_path / "long.wav"
    sf.write(path, stereo.astype(np.float32), rate, subtype="FLOAT")
    assert header(path) == (pytest.approx(seconds), rate)
    items, audio = _drain(decode_blocks(path))
    first, rate_read, decoded = items[0]
    assert rate_read == rate and decoded == 0 and len(first) == len(stereo)
    counts = [n for _, _, n in items[1:]]
    assert counts == sorted(counts) and counts[-1] == len(stereo)
    assert len(counts) == -(-len(stereo) // BLOCK_FRAMES)
    assert all(array is first for array, _, _ in items) and np.shares_memory(audio.samples, first)
    np.testing.assert_array_equal(audio.samples, load_audio(path).samples)
    np.testing.assert_allclose(audio.samples, stereo.mean(axis=1), atol=1e-6)


def test_a_file_that_is_not_audio_fails_at_the_header(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    with pytest.raises(AudioError, match="not a readable audio file"):
        next(decode_blocks(path))
    assert header(path) == (0.0, 0)


def test_above_48_khz_blocks_are_resampled_as_they_decode_into_one_array(tmp_path):
    """`decode_at_most`: the header's item needs no SciPy and gives the result's length at
    48 kHz; each block is resampled into that array; the end is `load_audio`'s samples."""
    rate, seconds = 96_000, 12.0
    t = np.arange(int(rate * seconds)) / rate
    tone = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.9 * (t > 6)).astype(np.float32)  # clips
    path = tmp_path / "hi.flac"
    sf.write(path, tone, rate, subtype="PCM_24")
    items, audio = _drain(decode_at_most(path))
    first, rate_read, ready = items[0]
    assert rate_read == 48_000 and ready == 0 and len(first) == len(tone) // 2
    counts = [n for _, _, n in items[1:]]
    assert counts == sorted(counts) and len(counts) > 2 and counts[-1] == len(first)
    assert all(array is first for array, _, _ in items) and audio.sample_rate == 48_000
    np.testing.assert_allclose(audio.samples, load_audio(path).samples, atol=1e-6)
    assert audio.samples.max() <= 1.0


def test_at_most_48_khz_decode_at_most_is_decode_blocks(tmp_path):
    path = tmp_path / "plain.wav"
    sf.write(path, np.full(44_100, 0.25, np.float32), 44_100, subtype="FLOAT")
    items, audio = _drain(decode_at_most(path))
    assert items[0][1] == 44_100 and audio.sample_rate == 44_100
    np.testing.assert_array_equal(audio.samples, load_audio(path).samples)


def test_a_cancel_stops_decoding_and_resampling_within_a_block(tmp_path):
    path = tmp_path / "hi.flac"
    sf.write(path, np.zeros(96_000 * 30, np.float32), 96_000, subtype="PCM_16")
    steps = decode_at_most(path)
    next(steps)
    with stop_when(lambda: True), pytest.raises(Cancelled):
        next(steps)
    steps.close()
