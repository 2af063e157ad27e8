"""Augmentation: seeded, length- and timing-preserving, each effect doing what it says."""

import numpy as np
from scipy.signal import sosfreqz

from clef_app.training.augment import RATE, augment, biquad_peak, noise, room_ir


def _clicks() -> np.ndarray:
    x = np.zeros(4 * RATE)
    t = np.arange(RATE // 2) / RATE
    x[RATE : RATE + RATE // 2] = np.sin(2 * np.pi * 440 * t) * np.exp(-4 * t)
    return x


def test_augment_is_seeded_and_keeps_length_and_onset() -> None:
    x = _clicks()
    for seed in range(12):
        a, info = augment(x, np.random.default_rng(seed))
        b, _ = augment(x, np.random.default_rng(seed))
        assert np.array_equal(a, b) and a.dtype == np.float32 and len(a) == len(x)
        assert np.max(np.abs(a)) <= 1.0
        env = np.convolve(np.abs(a), np.ones(160) / 160, "same")
        before, after = env[RATE - 1600 : RATE - 400].max(), env[RATE : RATE + 1600].max()
        assert after > 3 * before, info  # the note still starts at 1 s


def test_room_ir_decays_at_its_rt60() -> None:
    for rt60 in (0.3, 1.2):
        ir = room_ir(np.random.default_rng(0), rt60).astype(np.float64)
        edc = 10 * np.log10(np.cumsum(ir[::-1] ** 2)[::-1] / np.sum(ir**2))
        t5, t35 = np.argmax(edc < -5) / RATE, np.argmax(edc < -35) / RATE
        assert 0.5 * rt60 < 2 * (t35 - t5) < 1.6 * rt60  # T30 estimate


def test_peak_filter_gain_and_noise_snr() -> None:
    w, h = sosfreqz(biquad_peak(1000.0, 6.0, 1.0), worN=[1000.0], fs=RATE)
    assert abs(20 * np.log10(abs(h[0])) - 6.0) < 0.1
    x = np.random.default_rng(1).standard_normal(RATE)
    info: dict = {}
    y = noise(x, np.random.default_rng(2), info)
    snr = 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))
    assert abs(snr - info["noise"]["snr_db"]) < 0.5
