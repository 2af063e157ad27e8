"""Domain randomisation of rendered audio (numpy/scipy only, seeded): a room, an EQ, a band
limit, compression, noise and a level, each drawn at random and recorded.

Labels are never changed: every effect keeps the timing (the reverb's direct path is at
lag 0), and detuning is done in the synthesizer with pitch bend (see `synth.Renderer`).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, fftconvolve, lfilter, sosfilt

RATE = 16_000  # Hz


def _db(x: float) -> float:
    return 10 ** (x / 20)


def room_ir(rng: np.random.Generator, rt60: float, rate: int = RATE) -> np.ndarray:
    """A synthetic room: decaying noise (highs decay faster) after a 5-30 ms pre-delay.

    Args:
        rt60: s for the reverberant tail to fall 60 dB.
    Returns:
        (n,) float32 impulse response without the direct path, peak-normalised.
    """
    n = int(rate * min(2.0, rt60 * 1.2)) + 1
    t = np.arange(n) / rate
    noise = rng.standard_normal(n)
    dark = lfilter([0.2], [1, -0.8], rng.standard_normal(n))  # a low-passed copy
    bright = noise - lfilter([0.2], [1, -0.8], noise)
    tail = bright * np.exp(-6.9 * t / (0.6 * rt60)) + 2.5 * dark * np.exp(-6.9 * t / rt60)
    tail[: int(rate * rng.uniform(0.005, 0.03))] = 0.0
    return (tail / (np.max(np.abs(tail)) + 1e-9)).astype(np.float32)


def reverb(x: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """Convolve with a random room; wet level relative to the dry signal's energy."""
    rt60 = float(rng.uniform(0.2, 1.5))
    wet_db = float(rng.uniform(-18, 0))
    ir = room_ir(rng, rt60)
    wet = fftconvolve(x, ir)[: len(x)]
    wet *= np.sqrt(np.sum(x**2) / (np.sum(wet**2) + 1e-12)) * _db(wet_db)
    info["reverb"] = {"rt60": round(rt60, 2), "wet_db": round(wet_db, 1)}
    return x + wet


def biquad_peak(f0: float, gain_db: float, q: float, rate: int = RATE) -> np.ndarray:
    """RBJ peaking EQ as one second-order section (shape (1, 6))."""
    a, w = _db(gain_db / 2), 2 * np.pi * f0 / rate
    alpha = np.sin(w) / (2 * q)
    b = [1 + alpha * a, -2 * np.cos(w), 1 - alpha * a]
    den = [1 + alpha / a, -2 * np.cos(w), 1 - alpha / a]
    return np.array([b + den]) / den[0]


def biquad_shelf(f0: float, gain_db: float, high: bool, rate: int = RATE) -> np.ndarray:
    """RBJ low/high shelf (slope 1) as one second-order section."""
    a, w = _db(gain_db / 2), 2 * np.pi * f0 / rate
    alpha, c, sa = np.sin(w) / np.sqrt(2), np.cos(w), 2 * np.sqrt(a)
    s = -1 if high else 1
    b = [a * ((a + 1) - s * (a - 1) * c + sa * alpha), s * 2 * a * ((a - 1) - s * (a + 1) * c),
         a * ((a + 1) - s * (a - 1) * c - sa * alpha)]  # fmt: skip
    den = [(a + 1) + s * (a - 1) * c + sa * alpha, -s * 2 * ((a - 1) + s * (a + 1) * c),
           (a + 1) + s * (a - 1) * c - sa * alpha]  # fmt: skip
    return np.array([b + den]) / den[0]


def equalise(x: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """1-3 random peaks (±9 dB) and two random shelves (±8 dB)."""
    sections, bands = [], []
    for _ in range(int(rng.integers(1, 4))):
        f0 = float(np.exp(rng.uniform(np.log(80), np.log(6000))))
        g, q = float(rng.uniform(-9, 9)), float(rng.uniform(0.5, 3.0))
        sections.append(biquad_peak(f0, g, q))
        bands.append([round(f0), round(float(g), 1), round(q, 2)])
    low_g, high_g = float(rng.uniform(-8, 8)), float(rng.uniform(-8, 8))
    sections.append(biquad_shelf(float(rng.uniform(100, 400)), low_g, high=False))
    sections.append(biquad_shelf(float(rng.uniform(2000, 6000)), high_g, high=True))
    info["eq"] = {
        "peaks": bands,
        "low_shelf_db": round(low_g, 1),
        "high_shelf_db": round(high_g, 1),
    }
    return sosfilt(np.concatenate(sections), x)


def band_limit(x: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """A highpass (20-150 Hz) and/or lowpass (2.5-7.5 kHz) like cheap microphones and codecs."""
    limits = {}
    if rng.random() < 0.5:
        limits["highpass_hz"] = round(float(rng.uniform(20, 150)))
        x = sosfilt(butter(2, limits["highpass_hz"], "highpass", fs=RATE, output="sos"), x)
    if rng.random() < 0.6:
        limits["lowpass_hz"] = round(float(rng.uniform(2500, 7500)))
        x = sosfilt(butter(4, limits["lowpass_hz"], "lowpass", fs=RATE, output="sos"), x)
    info["band"] = limits
    return x


def compress(x: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """A feed-forward compressor (10 ms attack, 150 ms release) or tanh soft clipping."""
    if rng.random() < 0.3:  # mild: heavy clipping is rare in real recordings
        drive = float(rng.uniform(1.2, 3.0))
        peak = np.max(np.abs(x)) + 1e-9
        info["softclip_drive"] = round(drive, 2)
        return np.tanh(drive * x / peak) * peak / np.tanh(drive)
    ratio, thresh_db = float(rng.uniform(2, 8)), float(rng.uniform(-30, -8))
    env = _envelope(np.abs(x) / (np.max(np.abs(x)) + 1e-9))
    level_db = 20 * np.log10(env + 1e-9)
    gain_db = np.minimum(0.0, (thresh_db - level_db) * (1 - 1 / ratio))
    info["compressor"] = {"ratio": round(ratio, 1), "threshold_db": round(thresh_db, 1)}
    return x * 10 ** (gain_db / 20)


def _envelope(a: np.ndarray, attack_s: float = 0.01, release_s: float = 0.15) -> np.ndarray:
    """A peak envelope, approximated as fast-attack max of two one-pole smoothers."""
    att = lfilter([1 - np.exp(-1 / (attack_s * RATE))], [1, -np.exp(-1 / (attack_s * RATE))], a)
    rel = lfilter([1 - np.exp(-1 / (release_s * RATE))], [1, -np.exp(-1 / (release_s * RATE))], a)
    return np.maximum(att, rel)


def noise(x: np.ndarray, rng: np.random.Generator, info: dict) -> np.ndarray:
    """White, pink or brown noise or mains hum, at a random SNR of 10-45 dB."""
    kind = str(rng.choice(["white", "pink", "brown", "hum"]))
    n, snr = len(x), float(rng.uniform(10, 45))
    if kind == "hum":
        t = np.arange(n) / RATE
        f = float(rng.choice([50.0, 60.0]))
        z = sum(
            rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * f * k * t + rng.uniform(0, 7))
            for k in (1, 2, 3, 5)
        )
    else:
        z = rng.standard_normal(n)
        if kind == "pink":  # Paul Kellet's economy filter, ~-3 dB/octave
            b = [0.049922, -0.095993, 0.050612, -0.004408]
            z = lfilter(b, [1, -2.494956, 2.017265, -0.522189], z)
        elif kind == "brown":
            z = lfilter([1.0], [1, -0.995], z)
    signal_power = np.mean(x**2) + 1e-12
    z *= np.sqrt(signal_power / (np.mean(z**2) + 1e-12) / 10 ** (snr / 10))
    info["noise"] = {"kind": kind, "snr_db": round(snr, 1)}
    return x + z


STAGES = ((reverb, 0.6), (equalise, 0.6), (band_limit, 0.5), (compress, 0.3), (noise, 0.5))


def augment(
    x: np.ndarray, rng: np.random.Generator, strength: float = 1.0
) -> tuple[np.ndarray, dict]:
    """Apply each stage with its probability (times `strength`), then a random peak level.

    Args:
        x: (n,) float mono at 16 kHz.
        strength: 0 = only the level; 1 = the full randomisation.
    Returns:
        (augmented float32 (n,), peak at most 1; a JSON-able dict of what was done).
    """
    info: dict = {}
    y = np.asarray(x, dtype=np.float64)
    for stage, p in STAGES:
        if rng.random() < p * strength:
            y = stage(y, rng, info)
    peak_db = float(rng.uniform(-20, -1))
    y *= _db(peak_db) / (np.max(np.abs(y)) + 1e-9)
    info["peak_dbfs"] = round(peak_db, 1)
    return y.astype(np.float32), info
