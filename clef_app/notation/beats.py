"""Beat tracking and meter estimation from notes alone.

Beats: an onset-strength envelope built from the notes (louder, longer and lower notes
weigh more), a local tempo from windowed autocorrelation under a log-normal tempo prior
(kept continuous by a Viterbi pass, so sudden tempo changes are followed but the
metrical level does not flip; refined by a window of a few beats when the performance
has rubato), then Ellis's dynamic-programming beat tracker with that
local period; finally each beat moves to the strongest onset near it.

Grouping: beats are grouped in 2, 3 or 4 with the phase whose downbeats carry the most
accent (loud notes, long notes, many notes), with a slight preference for pieces that
start on a downbeat or one beat before it. Which level of the music the tracked beats
are, and whether it is simple or compound, is notation.meter_estimate's business.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clef_app.notation.events import NoteEvent
from clef_app.notation.steps import checkpoint

FPS = 100  # envelope frames per second
SMOOTH_FRAMES = 2.0  # Gaussian sigma of the envelope, in frames (20 ms)
MIN_BPM, MAX_BPM = 40.0, 220.0  # beat rates considered
PRIOR_BPM = 105.0  # centre of the log-normal tempo prior
PRIOR_OCTAVES = 0.9  # its spread, in octaves (log2 units)
TEMPO_WINDOW = 8.0  # s of notes each local tempo estimate looks at
TEMPO_HOP = 1.0  # s between local tempo estimates
TEMPO_JUMP = 20.0  # cost of changing the beat period by an octave between estimates
TIGHTNESS = 300.0  # Ellis's penalty on log tempo deviation between beats
FINE_WINDOW = 2.5  # s of notes each refined local tempo looks at (a few beats: rubato)
FINE_RANGE = 1.25  # ... within this ratio of the long window's period (no change of level)
FINE_MIN = 0.06  # log ratio (6 %) by which a refined period differs from the long window's
FINE_SHARE = 0.25  # share of estimates that must so differ for the piece to be rubato
SNAP = 0.2  # beats: a beat moves to an onset this close
SNAP_TATUM = 0.4  # ... and closer than this share of the piece's tatum
ACCENT_WINDOW = 0.2  # beats: onsets this close to a beat count for its accent
GROUPS = (4, 3, 2)  # beats per bar tried, in order of preference on ties
PREFER_FOUR = 1.1  # 2 beats per bar win over 4 only by this factor
VELOCITY_POWER = 4.0  # a note's accent grows with this power of its velocity ratio
PICKUP_PRIOR = {0: 0.03, 1: 0.03}  # added downbeat score for a pickup of 0 or 1 beats
CHORD_SPREAD = 0.05  # s: attacks this close are one chord (for the tatum)
MIN_TATUM, MAX_TATUM = 0.07, 0.8  # s: gaps between attacks that may be the tatum
TATUM_MIN_GAPS = 8  # gaps a window needs to tell its tatum
TATUM_WIDTH = 0.06  # octaves: kernel width of the gap histogram
ODD_TATUMS = (5, 7)  # tatums no beat holds
TATUM_SLACK = 0.06  # octaves (4 %): how near five or seven tatums a beat lag is suspect
TATUM_FLOOR = 0.05  # weight left to a lag that fits no tatum multiple
FAST_TATUM = 0.145  # of a tracked beat: a tatum this short (an eighth of it) halves the beats


def note_weights(notes: Sequence[NoteEvent]) -> np.ndarray:
    """Salience of each note's onset: loud, long and bass notes mark beats."""
    vel = np.array([n.velocity for n in notes], dtype=float) / 80.0
    dur = np.array([min(n.duration, 1.5) for n in notes])
    low = np.array([n.pitch < 55 for n in notes], dtype=float)
    return vel * (0.5 + dur) * (1.0 + 0.5 * low)


def onset_envelope(notes: Sequence[NoteEvent], t0: float) -> np.ndarray:
    """(frames,) onset strength from t0, FPS frames per second, smoothed."""
    onsets = np.array([n.onset for n in notes])
    frames = np.round((onsets - t0) * FPS).astype(int)
    env = np.zeros(frames.max() + int(2 * FPS))
    np.add.at(env, frames, note_weights(notes))
    k = np.arange(-6, 7)
    kernel = np.exp(-0.5 * (k / SMOOTH_FRAMES) ** 2)
    return np.convolve(env, kernel / kernel.sum(), mode="same")


def _lag_scores(env: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Autocorrelation evidence for each lag (with its double), under the tempo prior."""
    x = env - env.mean()
    ac = np.correlate(x, x, mode="full")[len(x) - 1 :]
    ac = ac / (ac[0] + 1e-9)
    ac = np.concatenate([ac, np.zeros(max(0, 2 * int(lags.max()) + 1 - len(ac)))])
    score = ac[lags] + 0.5 * ac[2 * lags]
    bpm = 60.0 * FPS / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    return np.maximum(score, 0.0) * prior


def _lags() -> np.ndarray:
    return np.arange(int(FPS * 60 / MAX_BPM), int(FPS * 60 / MIN_BPM) + 1)


def estimate_period(env: np.ndarray) -> float:
    """The beat period in frames over the whole envelope."""
    lags = _lags()
    return float(lags[int(np.argmax(_lag_scores(env, lags)))])


def tatum(onsets: np.ndarray) -> float | None:
    """The performance's fastest common pulse in seconds (its most frequent gap between
    successive attacks, chords counted once), or None with too few attacks to tell."""
    t = np.sort(onsets)
    if len(t) < 2:
        return None
    attacks = t[np.concatenate([[True], np.diff(t) > CHORD_SPREAD])]
    gaps = np.diff(attacks)
    gaps = gaps[(gaps >= MIN_TATUM) & (gaps <= MAX_TATUM)]
    if len(gaps) < TATUM_MIN_GAPS:
        return None
    grid = np.log2(np.geomspace(MIN_TATUM, MAX_TATUM, 200))
    density = np.exp(-0.5 * ((grid[:, None] - np.log2(gaps)[None, :]) / TATUM_WIDTH) ** 2)
    return float(2.0 ** grid[int(np.argmax(density.sum(axis=1)))])


def tatum_fit(lags: np.ndarray, pulse_frames: float | None) -> np.ndarray:
    """(len(lags),) weight of each beat lag given the tatum: small (TATUM_FLOOR) within
    TATUM_SLACK octaves of five or seven tatums, which no beat holds (a beat of five 16ths
    is a beat tracked wrongly, and writes quintuplets), else 1."""
    if pulse_frames is None:
        return np.ones(len(lags))
    ratio = np.log2(lags[:, None] / (pulse_frames * np.array(ODD_TATUMS)[None, :]))
    near = np.exp(-0.5 * (np.min(np.abs(ratio), axis=1) / TATUM_SLACK) ** 2)
    return 1.0 - (1.0 - TATUM_FLOOR) * near


def local_tatums(onsets: np.ndarray, times: np.ndarray) -> np.ndarray:
    """(len(times),) the tatum (s) of the TEMPO_WINDOW around each time; NaN where there
    are too few attacks to tell."""
    out = np.full(len(times), np.nan)
    half = TEMPO_WINDOW / 2
    ordered = np.sort(onsets)  # each window a slice found by bisection: linear, not n x times
    lo = np.searchsorted(ordered, np.asarray(times) - half, side="left")
    hi = np.searchsorted(ordered, np.asarray(times) + half, side="left")
    for i in range(len(times)):
        checkpoint()
        pulse = tatum(ordered[lo[i] : hi[i]])
        out[i] = np.nan if pulse is None else pulse
    return out


def local_periods(env: np.ndarray, onsets: np.ndarray | None = None,
                  t0: float = 0.0) -> np.ndarray:
    """(frames,) beat period in frames, following tempo changes.

    Windows of TEMPO_WINDOW seconds each pick a lag, among whole numbers of the window's
    tatum (`tatum_fit`: a beat of five 16ths is no beat) when the onsets (seconds) are
    given; a Viterbi pass keeps the choice continuous (a jump costs TEMPO_JUMP per squared
    octave), so the metrical level does not flip while the tempo may change.
    """
    lags = _lags()
    half, hop = int(TEMPO_WINDOW * FPS / 2), int(TEMPO_HOP * FPS)
    centres = np.arange(0, len(env), hop)
    cost = []
    pulses = (local_tatums(onsets, t0 + centres / FPS) if onsets is not None
              else np.full(len(centres), np.nan))
    for c, pulse in zip(centres, pulses, strict=True):
        checkpoint()
        s = _lag_scores(env[max(0, c - half) : c + half], lags)
        s = s * tatum_fit(lags, None if np.isnan(pulse) else pulse * FPS)
        cost.append(-np.log(s / (s.max() + 1e-12) + 1e-3))
    cost = np.array(cost)
    jump = TEMPO_JUMP * np.log2(lags[:, None] / lags[None, :]) ** 2
    total, back = cost[0].copy(), np.zeros(cost.shape, dtype=int)
    for i in range(1, len(centres)):
        step = total[:, None] + jump
        back[i] = np.argmin(step, axis=0)
        total = step[back[i], np.arange(len(lags))] + cost[i]
    path = [int(np.argmin(total))]
    for i in range(len(centres) - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    chosen = lags[np.array(path[::-1])].astype(float)
    if FINE_WINDOW > 0:
        chosen = refine_periods(env, centres, chosen)
    return np.interp(np.arange(len(env)), centres, chosen)


def refine_periods(env: np.ndarray, centres: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Local tempo: each period (frames) of the long windows, at envelope frames `centres`,
    refined within FINE_RANGE of itself by a FINE_WINDOW-s window's autocorrelation.

    A pianist's rubato swings the tempo 10-25 % within a phrase, faster than an 8-s window
    follows: a beat tracked at that average tempo slips off the beats at each phrase's
    push and ritardando, and every bar line after it moves. The short window follows the
    phrase; the range keeps the long window's metrical level. A steady performance (fewer
    than FINE_SHARE of the estimates moved by FINE_MIN) keeps the long windows' periods,
    which a short window can only make noisier.
    """
    lags = _lags()
    half = int(FINE_WINDOW * FPS / 2)
    out = coarse.copy()
    for i, (c, p) in enumerate(zip(centres, coarse, strict=True)):
        checkpoint()
        ok = (lags >= p / FINE_RANGE) & (lags <= p * FINE_RANGE)
        s = _lag_scores(env[max(0, c - half) : c + half], lags[ok])
        if s.max() > 0:
            out[i] = lags[ok][int(np.argmax(s))]
    moved = np.abs(np.log(out / coarse)) > FINE_MIN
    return out if moved.mean() >= FINE_SHARE else coarse


def track(env: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Ellis (2007) dynamic-programming beat tracking with a local period; beat frames."""
    n = len(env)
    local = env / (env.std() + 1e-9)
    cum = local.copy()
    back = np.full(n, -1)
    near = np.round(period / 2).astype(int)  # frame t looks back to t - near[t] at the latest
    lo = np.maximum(0, np.arange(n) - np.round(2 * period).astype(int))
    block = max(1, int(near.min())) if n else 1  # frames that never look at one another
    for first in range(int(period[0] / 2), n, block):
        checkpoint()
        _track_block(np.arange(first, min(n, first + block)), period, lo, near, local, cum,
                     back)
    last_strong = np.nonzero(env > 0.1 * env.max())[0][-1]
    p = int(period[last_strong])
    end_zone = np.arange(max(0, last_strong - p), min(n, last_strong + p + 1))
    t = int(end_zone[np.argmax(cum[end_zone])])
    beats = [t]
    while back[t] >= 0:
        t = int(back[t])
        beats.append(t)
    return np.array(beats[::-1], dtype=float)


def _track_block(ts: np.ndarray, period: np.ndarray, lo: np.ndarray, near: np.ndarray,
                 local: np.ndarray, cum: np.ndarray, back: np.ndarray) -> None:
    """Ellis's step for frames `ts` at once: each looks back only to frames before ts[0],
    whose scores are final, so the block gives what frame-by-frame steps would."""
    hi = ts - near[ts]
    width = hi - lo[ts] + 1
    if width.max() <= 0:
        return
    prev = lo[ts][:, None] + np.arange(width.max())[None, :]
    valid = prev <= hi[:, None]
    prev = np.where(valid, prev, 0)
    p = period[ts][:, None]
    with np.errstate(divide="ignore"):
        cand = cum[prev] - TIGHTNESS * np.log((ts[:, None] - prev) / p) ** 2
    cand = np.where(valid, cand, -np.inf)
    j = np.argmax(cand, axis=1)
    best = cand[np.arange(len(ts)), j]
    take = (width > 0) & (best > 0)
    cum[ts[take]] = local[ts[take]] + best[take]
    back[ts[take]] = prev[np.arange(len(ts)), j][take]


def snap_to_onsets(beats_s: np.ndarray, onsets: np.ndarray, weights: np.ndarray,
                   pulse: float | None = None) -> np.ndarray:
    """Each beat moved to the strongest onset within SNAP beats (and less than SNAP_TATUM
    of the local tatum, so no beat moves to a neighbouring 16th's loud bass note; not
    when `pulse`, the piece's tatum, is None), if any; stays increasing."""
    out = beats_s.copy()
    period = np.median(np.diff(beats_s)) if len(beats_s) > 1 else 0.5
    pulses = local_tatums(onsets, beats_s) if pulse is not None else np.full(len(beats_s), np.nan)
    order = np.argsort(onsets, kind="stable")
    ordered = onsets[order]
    for i, b in enumerate(beats_s):
        checkpoint()
        reach = SNAP * period
        if not np.isnan(pulses[i]):
            reach = min(reach, SNAP_TATUM * pulses[i])
        cand = _within(ordered, order, onsets, b, reach)
        if len(cand):
            score = weights[cand] - 2.0 * np.abs(onsets[cand] - b) / period
            out[i] = onsets[cand[np.argmax(score)]]
    keep = np.concatenate([[True], np.diff(out) > 0.25 * period])
    return out[keep]


def _within(ordered: np.ndarray, order: np.ndarray, values: np.ndarray, centre: float,
            reach: float) -> np.ndarray:
    """Indices (ascending) of `values` less than `reach` from `centre`, found by bisection
    in `ordered` (= values[order], sorted), so each look costs the few values near it."""
    lo = np.searchsorted(ordered, centre - reach - 1e-9, side="left")  # a hair wider: the
    hi = np.searchsorted(ordered, centre + reach + 1e-9, side="right")  # exact test follows
    cand = np.sort(order[lo:hi])
    return cand[np.abs(values[cand] - centre) < reach]


def track_beats(notes: Sequence[NoteEvent]) -> np.ndarray:
    """Beat times in seconds (at least two), following tempo changes."""
    t0 = min(n.onset for n in notes)
    env = onset_envelope(notes, t0)
    period = local_periods(env, np.array([n.onset for n in notes]), t0)
    if len(env) < 3 * period[0]:
        return t0 + np.array([0.0, period[0] / FPS])
    beats = t0 + track(env, period) / FPS
    onsets = np.array([n.onset for n in notes])
    pulse = tatum(onsets)
    beats = snap_to_onsets(beats, onsets, note_weights(notes), pulse)
    if len(beats) < 2:
        return t0 + np.array([0.0, period[0] / FPS])
    return split_slow_beats(beats, pulse)


def split_slow_beats(beats_s: np.ndarray, pulse: float | None) -> np.ndarray:
    """Beats halved when the piece's tatum is an eighth of them or less: the tracker
    followed half notes of fast music (a 200-BPM quarter is out of its prior), which
    would write every 16th as a 32nd."""
    if pulse is None or pulse > FAST_TATUM * float(np.median(np.diff(beats_s))):
        return beats_s
    mids = (beats_s[:-1] + beats_s[1:]) / 2
    return np.sort(np.concatenate([beats_s, mids]))


def beat_accents(notes: Sequence[NoteEvent], beat_pos: np.ndarray, n_beats: int) -> np.ndarray:
    """(n_beats,) metrical accent of each beat: loud and long notes starting on it.

    Loudness counts VELOCITY_POWER-fold: players lean on downbeats, and on held-out corpus
    pieces (`clef score-eval`) that dynamic accent placed bar lines better than bass or
    harmonic-change cues did.
    """
    idx = np.round(beat_pos).astype(int)
    near = (np.abs(beat_pos - idx) < ACCENT_WINDOW) & (idx >= 0) & (idx < n_beats)
    dur_beats = np.array([n.duration for n in notes]) / _seconds_per_beat(notes, beat_pos)
    vel = (np.array([n.velocity for n in notes], dtype=float) / 80.0) ** VELOCITY_POWER
    salience = np.zeros(n_beats)
    np.add.at(salience, idx[near], (vel * (1.0 + np.log2(1.0 + np.minimum(dur_beats, 8))))[near])
    return salience


def _seconds_per_beat(notes: Sequence[NoteEvent], beat_pos: np.ndarray) -> float:
    onsets = np.array([n.onset for n in notes])
    span = beat_pos.max() - beat_pos.min()
    return float((onsets.max() - onsets.min()) / span) if span > 0 else 0.5


def estimate_grouping(
    accents: np.ndarray, groups: Sequence[int] = GROUPS
) -> tuple[int, int]:
    """(beats per bar, phase of the first downbeat) maximising downbeat accent."""
    if len(accents) < 4:
        return groups[0], 0
    mean = accents.mean() + 1e-9
    scores: dict[tuple[int, int], float] = {}
    for g in groups:
        for phase in range(g):
            scores[(g, phase)] = accents[phase::g].mean() / mean
    for (g, phase) in scores:  # most pieces start on a downbeat or with a short upbeat
        scores[(g, phase)] += PICKUP_PRIOR.get(phase if phase == 0 else g - phase, 0.0)
    best = max(scores, key=scores.get)
    if best[0] == 2 and 4 in groups:
        four = max((scores[(4, p)], p) for p in range(4) if p % 2 == best[1])
        if scores[best] < PREFER_FOUR * four[0]:
            best = (4, four[1])
    return best
