"""The workspace's pitch-axis spectrogram: log-frequency rows, ROWS_PER_SEMITONE per key.

Row k is centred on MIDI pitch `row_pitch(k)`: the rows cover A0 - 1/2 to C8 + 1/2 in equal
steps, so every semitone gets the same height and a key's fundamental lies on the middle of
its three rows. Like a constant-Q transform, the analysis window grows toward the bass
(BANDS): each band reads the recording decimated to a rate just above what it needs, with a
Hann window long enough to separate neighbouring keys there, and triangular filters on the
row grid turn its FFT bins into rows (a bin narrower than a row is summed into it, a row
narrower than a bin interpolates between bins).

Why not a library: nnAudio needs torch (the GUI never loads it) and librosa is not a
dependency; its CQT of a whole hour also takes minutes at a 10-ms hop. This is an STFT per
band with numpy and scipy.fft (3x numpy's FFT on these batches); the decimation is numpy
FIR filtering, as importing scipy.signal for it took 5.6 s on the busy CPU (1 s idle) before
the first block could show. Measured: 0.5-3 s per minute of 16-kHz audio on the busy 2-core
CPU (load 4-12), 3-5x the model's log-mel.

Everything is computed block by block (`blocks`), at any sample rate, so an hour-long
recording's picture appears as it is computed and memory holds one block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from clef_app.audio.features import pitch_to_row, row_to_pitch
from clef_app.config import MIDI_MAX, MIDI_MIN, FrontEndConfig
from clef_app.notation.steps import checkpoint

ROWS_PER_SEMITONE = 3
LOW_EDGE = MIDI_MIN - 0.5  # pitch at the bottom of row 0 (A0's lower edge)
HIGH_EDGE = MIDI_MAX + 0.5  # pitch at the top of the last row (C8's upper edge)
N_ROWS = (MIDI_MAX - MIDI_MIN + 1) * ROWS_PER_SEMITONE  # 264 rows
FPS = 100  # frames/s: frame i is centred at i / FPS s, as the mel display's
BLOCK_FRAMES = 2048  # frames per block: 20.48 s of the recording
POWER_FLOOR = 1e-10  # silence is -100 dB, as the mel display's
TOP_RATE = 10_400.0  # Hz: the first band's rate is at least this (C8's row edge is 4.3 kHz)


@dataclass(frozen=True)
class Grid:
    """Rows in equal pitch steps from `low` (the bottom edge of row 0, a MIDI pitch) to
    `high` (the top edge of the last row). The workspace shows `DISPLAY`; a model whose
    front end is log-frequency reads `grid_of(fe)` (model/frontend.py)."""

    low: float
    high: float
    rows: int

    @property
    def per_semitone(self) -> float:
        return self.rows / (self.high - self.low)

    @property
    def top_rate(self) -> float:
        """Hz: the first band's rate is at least this (its top row edge fits below Nyquist)."""
        return max(TOP_RATE, 2.4 * float(_hz(self.high)))


DISPLAY = Grid(LOW_EDGE, HIGH_EDGE, N_ROWS)


def grid_of(fe: FrontEndConfig) -> Grid:
    """The rows a model with a log-frequency front end reads (image_height of them)."""
    return Grid(fe.low_pitch, fe.high_pitch, fe.image_height)


def model_rows(fe: FrontEndConfig) -> int:
    """Rows of the spectrogram a model with this front end reads (row 0 the lowest)."""
    return fe.image_height if fe.kind == "logfreq" else fe.n_mels


def model_row(pitch: np.ndarray | float, fe: FrontEndConfig) -> np.ndarray:
    """The fractional row of that spectrogram where a pitch's fundamental lies."""
    return pitch_row(pitch, grid_of(fe)) if fe.kind == "logfreq" else pitch_to_row(pitch, fe)


def model_row_pitch(row: np.ndarray | float, fe: FrontEndConfig) -> np.ndarray:
    """Inverse of `model_row` (fractional MIDI pitch)."""
    return row_pitch(row, grid_of(fe)) if fe.kind == "logfreq" else row_to_pitch(row, fe)


@dataclass(frozen=True)
class Band:
    """Rows from `low` (a pitch, inclusive) up to the next band's, read with a Hann window
    of `window` s on the recording decimated by `decimate` more than the band above."""

    low: float
    window: float  # s
    decimate: int  # relative to the band above (the first: relative to TOP_RATE)
    pad: int  # FFT length / window length, at least (rows narrower than bins: smoother)


# a window's main lobe spans +-2 bins: 0.51 s separates neighbouring keys from about C2 up,
# 0.26 s from C3, 0.13 s from C4; longer would smear the bass's onsets by over half a second
BANDS = (Band(64.0, 0.128, 1, 1), Band(40.0, 0.256, 4, 2), Band(MIDI_MIN, 0.512, 4, 2))
DECIMATE_CHUNK = 1 << 20  # input samples decimated at a time (2.6 s at 400 kHz, ~50 ms)
MARGIN = 0.75  # s of audio read beyond a block on each side: half a window + filter tails


def row_pitch(row: np.ndarray | float, grid: Grid = DISPLAY) -> np.ndarray:
    """The (fractional) MIDI pitch at the centre of a row."""
    return grid.low + (np.asarray(row, dtype=np.float64) + 0.5) / grid.per_semitone


def pitch_row(pitch: np.ndarray | float, grid: Grid = DISPLAY) -> np.ndarray:
    """Inverse of `row_pitch`: the fractional row where a pitch's fundamental lies."""
    return (np.asarray(pitch, dtype=np.float64) - grid.low) * grid.per_semitone - 0.5


def _hz(pitch: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def _lead(sample_rate: float, grid: Grid) -> int:
    """How much the first band decimates the recording."""
    return max(1, int(sample_rate // grid.top_rate))


def band_rates(sample_rate: float, grid: Grid = DISPLAY) -> list[float]:
    """Hz: each band's rate for a recording at `sample_rate`."""
    first = _lead(sample_rate, grid)
    rates, rate = [], sample_rate / first
    for band in BANDS:
        rate = rate / band.decimate
        rates.append(rate)
    return rates


@lru_cache(maxsize=16)
def _band_plan(sample_rate: float, grid: Grid = DISPLAY) -> list[tuple[int, int, np.ndarray,
                                                                       np.ndarray]]:
    """Per band: window length, FFT length, the Hann window and the (bins, rows)
    triangular filters onto its rows.

    Levels: the windows are scaled so that every band's bins hold the same noise power
    (which decimation and window length would otherwise change), and each band's filters
    so that a row at the edge with the band above would read noise as that band does: the
    background has no step at a band's edge. A full-scale sine's peak bin has power 1/4 in
    the first band; sines read within a few dB of each other across the range."""
    centres = row_pitch(np.arange(grid.rows), grid)
    step = 1 / grid.per_semitone
    plan, top, reference, edge_sum = [], grid.high, None, None
    for band, rate in zip(BANDS, band_rates(sample_rate, grid), strict=True):
        n = int(round(band.window * rate))
        n_fft = 1 << int(np.ceil(np.log2(band.pad * n)))  # zero-padded: smoother rows
        window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
        density = rate * np.sum(window ** 2)  # noise power per bin is proportional to it
        if reference is None:  # the first band: a full-scale sine's peak bin is 1/4
            reference = density / window.sum() ** 2
        window *= np.sqrt(reference / density)
        rows = (centres >= band.low - 0.5) & (centres < top)
        weights = _triangles(centres[rows], step, rate, n_fft)
        if edge_sum is not None:  # the row just above, as this band would read it
            above = _triangles(centres[rows][-1:] + step, step, rate, n_fft)
            weights *= edge_sum / above.sum()
        edge_sum = weights[:, 0].sum()
        used = int(np.nonzero(weights.any(axis=1))[0].max()) + 1
        full = np.zeros((used, grid.rows), dtype=np.float32)
        full[:, rows] = weights[:used]
        plan.append((n, n_fft, window.astype(np.float32), full))
        top = band.low - 0.5
    return plan


def _triangles(pitches: np.ndarray, step: float, rate: float, n_fft: int) -> np.ndarray:
    """(bins, rows) triangular weights, peak 1, of rows centred on `pitches`: as wide as
    the row spacing, or as a bin where bins are wider (then they interpolate)."""
    bins = np.arange(n_fft // 2 + 1) * rate / n_fft
    fc = _hz(pitches)
    half = np.maximum(fc * (2.0 ** (step / 12) - 1.0), rate / n_fft)
    return np.clip(1.0 - np.abs(bins[:, None] - fc[None, :]) / half[None, :], 0.0, None)


@lru_cache(maxsize=8)
def _lowpass(factor: int) -> np.ndarray:
    """Kaiser-windowed sinc FIR with its cutoff at the decimated rate's Nyquist frequency;
    32 * factor + 1 taps: flat to 0.84 of that Nyquist (above every band's top row)."""
    half = 16 * factor
    n = np.arange(-half, half + 1)
    h = np.sinc(n / factor) * np.kaiser(2 * half + 1, 8.0)
    return (h / h.sum()).astype(np.float32)


def _decimated(x: np.ndarray, factor: int) -> np.ndarray:
    """`x` low-passed and kept every `factor` samples; output j is input j * factor.

    Computed DECIMATE_CHUNK input samples at a time (FFT convolution of each stretch with
    the filter's reach on both sides) with `steps.checkpoint()` between two: a recording at
    hundreds of kHz decimates seconds of CPU per block, which a cancel must not wait for."""
    if factor == 1:
        return x
    h = _lowpass(factor)
    half = len(h) // 2
    count = -(-len(x) // factor)
    per = max(1, DECIMATE_CHUNK // factor)  # outputs per stretch
    out = np.empty(count, dtype=np.float32)
    for a in range(0, count, per):
        checkpoint()
        b = min(count, a + per)
        lo, hi = a * factor - half, (b - 1) * factor + half + 1  # inputs outputs a..b-1 read
        seg = np.zeros(hi - lo, dtype=np.float32)
        seg[max(0, -lo) : min(hi, len(x)) - lo] = x[max(0, lo) : min(hi, len(x))]
        size = 1 << (len(seg) + len(h) - 2).bit_length()  # no wrap-around
        y = np.fft.irfft(np.fft.rfft(seg, size) * np.fft.rfft(h, size), size)
        out[a:b] = y[2 * half : 2 * half + (b - a) * factor : factor]
    return out


def _frames_db(signal: np.ndarray, origin: float, rate: float, first: int, count: int,
               plan: tuple[int, int, np.ndarray, np.ndarray]) -> np.ndarray:
    """(count, N_ROWS) power of one band's rows for frames first..first+count-1, from
    `signal` at `rate` whose sample 0 lies at `origin` s (zeros outside it)."""
    from scipy import fft  # 3x numpy's here (float32, SIMD); 0.3 s to import, 1.5 s busy

    n, n_fft, window, filters = plan
    centres = np.round((np.arange(first, first + count) / FPS - origin) * rate).astype(np.int64)
    padded = np.concatenate([np.zeros(n, np.float32), signal, np.zeros(n, np.float32)])
    frames = sliding_window_view(padded, n)[centres - n // 2 + n]  # zeros outside `signal`
    spectrum = fft.rfft(frames * window, n=n_fft, axis=-1)[:, : len(filters)]
    power = np.square(spectrum.real)
    power += np.square(spectrum.imag)
    return power @ filters


def block(samples: np.ndarray, sample_rate: int, first: int, count: int,
          grid: Grid = DISPLAY) -> np.ndarray:
    """dB of frames first..first+count-1 of a recording.

    Args:
        samples: (n,) mono float32 at `sample_rate` (any rate above ~1 kHz).
    Returns:
        (count, grid.rows) float32 dB, row 0 the lowest.
    """
    rates = band_rates(sample_rate, grid)
    lead = _lead(sample_rate, grid)
    step = lead * int(np.prod([b.decimate for b in BANDS]))  # native samples per lowest-band one
    start = int(np.floor(((first / FPS) - MARGIN) * sample_rate / step)) * step
    stop = int(np.ceil((((first + count) / FPS) + MARGIN) * sample_rate))
    piece = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(0, start), min(len(samples), stop)
    if hi > lo:
        piece[lo - start : hi - start] = samples[lo:hi]
    origin = start / sample_rate
    power = np.zeros((count, grid.rows), dtype=np.float32)
    signal = _decimated(piece, lead)
    for band, rate, plan in zip(BANDS, rates, _band_plan(float(sample_rate), grid), strict=True):
        checkpoint()
        signal = _decimated(signal, band.decimate)
        power += _frames_db(signal, origin, rate, first, count, plan)
    power += POWER_FLOOR
    return np.multiply(np.log10(power, out=power), 10.0, out=power)


def n_frames(n_samples: int, sample_rate: int) -> int:
    """Frames of a recording: one per 1/FPS s, the last at or before its end."""
    return 1 + int(n_samples * FPS // sample_rate)


def blocks(samples: np.ndarray, sample_rate: int, block_frames: int = BLOCK_FRAMES,
           cancelled: Callable[[], bool] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(first frame, (frames, N_ROWS) dB) for the whole recording, block by block from
    its start; stops early when `cancelled()` says so."""
    total = n_frames(len(samples), sample_rate)
    for first in range(0, total, block_frames):
        if cancelled is not None and cancelled():
            return
        yield first, block(samples, sample_rate, first, min(block_frames, total - first))


SCALES = ("log-frequency", "mel")  # the workspace's choices: these rows, or the model's mel


@lru_cache(maxsize=1)
def _mel_weights() -> tuple[np.ndarray, np.ndarray]:
    """(n_mels, N_ROWS) linear interpolation between the two mel rows around each row's
    pitch, and (N_ROWS,) 1 where a row lies outside the mel range (30 Hz to 8 kHz)."""
    from clef_app.config import N_MELS

    mel = pitch_to_row(row_pitch(np.arange(N_ROWS)))
    weights = np.zeros((N_MELS, N_ROWS), dtype=np.float32)
    inside = (mel >= 0) & (mel <= N_MELS - 1)
    lo = np.clip(np.floor(mel).astype(int), 0, N_MELS - 2)
    frac = np.clip(mel - lo, 0.0, 1.0)
    cols = np.nonzero(inside)[0]
    weights[lo[cols], cols] = 1.0 - frac[cols]
    weights[lo[cols] + 1, cols] += frac[cols]
    return weights, (~inside).astype(np.float32)


def mel_on_rows(mel_db: np.ndarray) -> np.ndarray:
    """The model's log-mel frames, (frames, n_mels) dB, drawn on the pitch rows: each row
    reads the mel value at its pitch (coarse in the bass, where a mel row spans several
    keys); rows outside the mel range are silence.

    Returns:
        (frames, N_ROWS) float32 dB.
    """
    weights, outside = _mel_weights()
    return np.asarray(mel_db, dtype=np.float32) @ weights + outside * (10 * np.log10(POWER_FLOOR))
