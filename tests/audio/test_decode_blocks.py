"""Decoding a recording block by block (`decode_blocks`): the header first, then the array
filling in, ending in exactly what `load_audio` reads."""

import numpy as np
import pytest
import soundfile as sf

from clef_app.audio.io import BLOCK_FRAMES, AudioError, decode_blocks, header, load_audio


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
