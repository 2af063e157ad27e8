"""The workspace's log-frequency spectrogram: room for every key, fundamentals on their rows,
the same picture whatever the block size or sample rate, and no step at a band's edge."""

import numpy as np
import pytest

from clef_app.audio import logfreq
from clef_app.audio.features import display_spectrogram, pitch_to_row
from clef_app.audio.logfreq import N_ROWS, ROWS_PER_SEMITONE, pitch_row, row_pitch
from clef_app.config import MIDI_MAX, MIDI_MIN


def _sine(pitch: float, rate: int, seconds: float = 1.5, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    hz = 440.0 * 2 ** ((pitch - 69) / 12)
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_every_key_from_a0_to_c8_has_at_least_two_rows():
    assert ROWS_PER_SEMITONE >= 2
    assert N_ROWS == (MIDI_MAX - MIDI_MIN + 1) * ROWS_PER_SEMITONE
    assert row_pitch(0) - 0.5 / ROWS_PER_SEMITONE == pytest.approx(MIDI_MIN - 0.5)
    assert row_pitch(N_ROWS - 1) + 0.5 / ROWS_PER_SEMITONE == pytest.approx(MIDI_MAX + 0.5)
    np.testing.assert_allclose(pitch_row(row_pitch(np.arange(N_ROWS))), np.arange(N_ROWS),
                               atol=1e-9)
    assert np.all(np.diff(row_pitch(np.arange(N_ROWS))) == pytest.approx(1 / ROWS_PER_SEMITONE))


@pytest.mark.parametrize("rate", [16_000, 44_100])
def test_a_sine_at_every_piano_key_is_loudest_on_that_keys_middle_row(rate):
    for pitch in range(MIDI_MIN, MIDI_MAX + 1):
        rows = logfreq.block(_sine(pitch, rate), rate, 60, 20).mean(axis=0)
        assert int(np.argmax(rows)) == pitch_row(pitch), (rate, pitch)
        # the neighbouring keys' middle rows are below: by 8 dB or more from F1 up, by
        # 3.9 dB at A0 (a 0.5-s window cannot separate 1.6 Hz, see logfreq.BANDS)
        below = 3.5 if pitch < 29 else 8.0
        for other in (pitch - 1, pitch + 1):
            if MIDI_MIN <= other <= MIDI_MAX:
                assert rows[int(pitch_row(other))] < rows.max() - below, (rate, pitch, other)


def test_blocks_join_without_seams_and_any_block_size_gives_the_same_picture():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(16_000 * 7)).astype(np.float32) + _sine(45, 16_000, 7.0)
    whole = logfreq.block(x, 16_000, 0, logfreq.n_frames(len(x), 16_000))
    for size in (64, 333):
        parts = np.concatenate([b for _, b in logfreq.blocks(x, 16_000, block_frames=size)])
        np.testing.assert_allclose(parts, whole, atol=1e-3)
    assert whole.shape == (701, N_ROWS) and np.isfinite(whole).all()


def test_noise_has_no_step_at_a_bands_edge():
    x = (0.1 * np.random.default_rng(1).standard_normal(16_000 * 20)).astype(np.float32)
    rows = logfreq.block(x, 16_000, 500, 1000).mean(axis=0)
    for band in logfreq.BANDS[:-1]:
        edge = int(round(pitch_row(band.low - 0.5 + 0.5 / ROWS_PER_SEMITONE)))
        assert abs(rows[edge] - rows[edge - 1]) < 3.0, band  # dB


def test_a_sine_reads_about_as_loud_in_every_band():
    levels = [logfreq.block(_sine(p, 16_000), 16_000, 60, 20).mean(axis=0).max()
              for p in (30, 50, 80)]
    assert max(levels) - min(levels) < 10.0  # dB (a band reads a sine 3 dB louder than
    # the one above it)


def test_silence_and_a_file_shorter_than_a_window():
    assert np.all(logfreq.block(np.zeros(10, np.float32), 16_000, 0, 1) == pytest.approx(-100))
    assert logfreq.n_frames(0, 16_000) == 1


def test_the_models_mel_drawn_on_the_pitch_rows_keeps_a_notes_pitch_to_a_key():
    for pitch in (45, 60, 84, 100):
        mel = display_spectrogram(_sine(pitch, 16_000, 1.0))
        rows = logfreq.mel_on_rows(mel)[20:80].mean(axis=0)
        assert rows.shape == (N_ROWS,)
        assert abs(int(np.argmax(rows)) - pitch_row(pitch)) <= ROWS_PER_SEMITONE, pitch
    below = row_pitch(np.arange(N_ROWS)) < 22.0  # under 30 Hz: outside the mel range
    assert pitch_to_row(22.0) < 0 and np.all(logfreq.mel_on_rows(mel)[:, below] == -100)
