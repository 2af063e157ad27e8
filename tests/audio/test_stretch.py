"""Time-stretching keeps pitch, loudness and a linear time map."""

import numpy as np
import pytest

from clef_app.audio.stretch import stretch, window_size

RATE = 44_100


def dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
    return float(np.fft.rfftfreq(8 * len(x), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("speed", [0.5, 0.75])
def test_a_stretched_sine_keeps_its_pitch_and_level(speed):
    t = np.arange(2 * RATE) / RATE
    x = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    y = stretch(x, speed, RATE)
    assert len(y) == int(np.ceil(len(x) / speed))
    middle = y[len(y) // 4 : 3 * len(y) // 4]
    assert dominant_hz(middle) == pytest.approx(440.0, abs=1.0)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_a_click_lands_at_its_time_divided_by_the_speed():
    x = np.zeros(3 * RATE, dtype=np.float32)
    x[int(1.2 * RATE)] = 1.0
    for speed in (0.5, 0.8):
        y = stretch(x, speed, RATE)
        found = np.argmax(np.abs(y)) / RATE
        assert found == pytest.approx(1.2 / speed, abs=window_size(RATE) / 4 / RATE)


def test_channels_share_one_time_grid_and_speed_one_is_a_copy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, RATE)).astype(np.float32)
    both = stretch(x, 0.6, RATE)
    np.testing.assert_allclose(both[1], stretch(x[1], 0.6, RATE), atol=1e-5)
    same = stretch(x, 1.0, RATE)
    np.testing.assert_array_equal(same, x)
    assert same is not x


def test_cancel_returns_none():
    assert stretch(np.zeros(RATE * 5, np.float32), 0.5, RATE, cancel=lambda: True) is None
