"""Meter estimation: simple or compound, beats per bar and where the bar lines fall.

Tracked beats (beats.track_beats) may be quarters, dotted quarters or eighths of the
written music. Everything here happens on a grid of eighth notes laid through them:

1. The tracked beat's level: mostly divided in three, it is a dotted quarter (three
   eighths); otherwise a quarter (two), or an eighth when its beats then group in threes
   and it is either very fast and mostly undivided, or those groups of three alternate
   strong and weak (a slow 6/8, where the tracker follows the eighths).
2. Beat division: onsets, weighted by how long they sound (not how loud: downbeat
   accents are the bar's business), gather on the beats. Eighths grouped in threes that
   gather them clearly better than in twos make a compound meter (dotted-quarter beats:
   3/8, 6/8, 9/8, 12/8); in twos, a simple one (2/4, 3/4, 4/4).
3. Beats per bar and the bar's phase: simple meters by five downbeat cues
   (notation.downbeats; on short excerpts by velocity accent alone,
   beats.estimate_grouping). Compound meters are 6/8 or 9/8, whichever sets its
   downbeats apart more surely by loudness; 12/8 when the half bar of two 6/8 bars is
   clearly weaker than the downbeat, and 3/8 when neither grouping stands out. (Those
   two are hypermeter: a performance tells them from 6/8 only by phrasing, and often
   not at all.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clef_app.notation import beats, downbeats
from clef_app.notation.events import NoteEvent
from clef_app.notation.measures import Meter
from clef_app.notation.quantize import TUPLETS, choose_subdivisions, ternary

COMPOUND_SHARE = 0.5  # of subdivided tracked beats divided in three: they are dotted quarters
FAST_BPM = 180.0  # tracked beats faster than this, mostly undivided, may be eighths
UNDIVIDED_SHARE = 0.5  # ... "mostly undivided"
COMPOUND_MARGIN = 1.05  # eighths in threes must gather onsets this much better than in twos
SLOW_EIGHTH_BPM = 90.0  # tracked beats slower than this are never taken for eighths
SLOW_COMPOUND = 1.4  # accent ratio of alternate groups of three that makes them beats
SLOW_MIN_BEATS = 24  # tracked beats needed to tell (8 groups of three)
ONSET_WINDOW = 0.2  # eighths: an onset this close to a grid point counts for it
TWELVE_EIGHT = 1.4  # downbeat / half-bar accent ratio that makes 12/8 rather than 6/8
FLAT_TWO, FLAT_THREE = 0.5, 1.5  # downbeat t statistics below which bars are 3/8
SIMPLE_METERS = {2: "2/4", 3: "3/4", 4: "4/4"}
COMPOUND_METERS = {1: "3/8", 2: "6/8", 3: "9/8", 4: "12/8"}


@dataclass(frozen=True)
class MeterChoice:
    """A meter and its grid: eighths per tracked beat, and one bar line in eighths."""

    meter: Meter
    eighths_per_beat: int  # eighth notes per tracked beat: 1, 2 or 3
    bar_line: int  # an eighth (counted from the first tracked beat) that starts a bar

    @property
    def beat_eighths(self) -> int:
        return 3 if self.meter.compound else 2


def tracked_level(pos: np.ndarray, n_beats: int, bpm: float) -> int:
    """Eighths per tracked beat, from how the tracked beats divide (see the module doc).

    Returns 3 (dotted quarters), 2 (quarters) or 1 (eighths: only a candidate, kept by
    `estimate_meter` when its eighths group in threes).
    """
    subs = choose_subdivisions(pos, n_beats + 1, (1, 2, 4, 3, 6) + TUPLETS)
    divided = [s for s in subs if s > 1 and s not in TUPLETS]
    if divided and sum(ternary(s) for s in divided) > COMPOUND_SHARE * len(divided):
        return 3
    if bpm > FAST_BPM and subs.count(1) > UNDIVIDED_SHARE * len(subs):
        return 1
    return 2


def division_profile(notes: Sequence[NoteEvent], eighths: np.ndarray, k: int) -> np.ndarray:
    """(k,) share of onset weight on each phase of a k-eighth grid, times k (1 = even).

    An onset weighs 1 + log2(1 + its length in eighths, at most 8).
    """
    idx = np.round(eighths).astype(int)
    near = np.abs(eighths - idx) < ONSET_WINDOW
    span = eighths.max() - eighths.min()
    onsets = np.array([n.onset for n in notes])
    per_eighth = (onsets.max() - onsets.min()) / span if span > 0 else 0.25
    length = np.array([n.duration for n in notes]) / max(per_eighth, 1e-6)
    weight = 1.0 + np.log2(1.0 + np.minimum(length, 8.0))
    profile = np.zeros(k)
    np.add.at(profile, idx[near] % k, weight[near])
    return profile * k / max(profile.sum(), 1e-9)


def estimate_meter(
    notes: Sequence[NoteEvent], pos: np.ndarray, n_beats: int, bpm: float,
    user: Meter | None = None,
) -> MeterChoice:
    """The meter of these notes.

    Args:
        notes: the performance.
        pos: (len(notes),) onset positions in tracked beats.
        n_beats: tracked beats.
        bpm: the tracked beat's median rate.
        user: the user's meter for bar 1, if any: only the grid is estimated then.
    """
    level = tracked_level(pos, n_beats, bpm)
    if user is not None and not user.compound:
        level = 2
    elif level == 2 and n_beats >= SLOW_MIN_BEATS and _slow_compound(notes, pos, bpm):
        level = 1
    eighths = pos * level
    twos = division_profile(notes, eighths, 2)
    threes = division_profile(notes, eighths, 3)
    if user is not None:
        compound = user.compound
    else:
        compound = level == 3 or threes.max() > COMPOUND_MARGIN * twos.max()
    if not compound and level == 1:  # a fast quarter after all
        level, eighths = 2, pos * 2
    k = 3 if compound else 2
    beat_phase = 0 if level == k else int(np.argmax(threes if compound else twos))
    beat_pos = (eighths - beat_phase) / k
    accents = beats.beat_accents(notes, beat_pos, int(np.ceil(beat_pos.max())) + 2)
    if user is not None:
        group = max(int(user.bar_quarters * 2 / k), 1)
        _, bar_phase = beats.estimate_grouping(accents, (group,))
        meter = user
    elif compound:
        group, bar_phase = compound_grouping(notes, beat_pos)
        meter = Meter.parse(COMPOUND_METERS[group])
    else:
        group, bar_phase = (downbeats.simple_grouping(notes, beat_pos)
                            or beats.estimate_grouping(accents))
        meter = Meter.parse(SIMPLE_METERS[group])
    return MeterChoice(meter, level, beat_phase + k * bar_phase)


def _slow_compound(notes: Sequence[NoteEvent], pos: np.ndarray, bpm: float) -> bool:
    """Whether tracked beats group in threes that alternate strong and weak (eighths of 6/8)."""
    threes = division_profile(notes, pos, 3)
    twos = division_profile(notes, pos, 2)
    if bpm < SLOW_EIGHTH_BPM or threes.max() <= COMPOUND_MARGIN * twos.max():
        return False
    units = (pos - int(np.argmax(threes))) / 3
    accents = beats.beat_accents(notes, units, int(np.ceil(units.max())) + 2)
    return max(_contrast(accents, phase, 2) for phase in (0, 1)) > SLOW_COMPOUND


def compound_grouping(notes: Sequence[NoteEvent], beat_pos: np.ndarray) -> tuple[int, int]:
    """(dotted-quarter beats per bar, phase of the first downbeat) of a compound meter.

    Two or three beats: whichever grouping sets its downbeats apart more surely by
    loudness (a t statistic of each beat's loudest note against the other beats, so that
    three phases of fewer bars gain nothing from chance). Neither at all: one beat a bar
    (3/8). Two become four (12/8) when the half bar of two is clearly weaker than the
    downbeat in accent (beats.beat_accents: loud, long and many notes).
    """
    n = int(np.ceil(beat_pos.max())) + 2
    peaks = beat_peaks(notes, beat_pos, n)
    if n < 4:
        return 2, 0
    (t2, p2), (t3, p3) = (_downbeat_t(peaks, g) for g in (2, 3))
    if t2 < FLAT_TWO and t3 < FLAT_THREE:
        return 1, 0
    if t3 > t2:
        return 3, p3
    accents = beats.beat_accents(notes, beat_pos, n)
    four = max((p2, p2 + 2), key=lambda p: accents[p::4].mean())
    if _contrast(accents, four, 4) > TWELVE_EIGHT:
        return 4, four % 4
    return 2, p2


def beat_peaks(notes: Sequence[NoteEvent], beat_pos: np.ndarray, n_beats: int) -> np.ndarray:
    """(n_beats,) velocity of the loudest note starting on each beat (the mean where none)."""
    idx = np.round(beat_pos).astype(int)
    near = (np.abs(beat_pos - idx) < beats.ACCENT_WINDOW) & (idx >= 0) & (idx < n_beats)
    peaks = np.zeros(n_beats)
    np.maximum.at(peaks, idx[near], np.array([n.velocity for n in notes], float)[near])
    struck = peaks > 0
    peaks[~struck] = peaks[struck].mean() if struck.any() else 0.0
    return peaks


def _downbeat_t(accents: np.ndarray, group: int) -> tuple[float, int]:
    """(t statistic of downbeat accents against the other beats, downbeat phase)."""
    _, phase = beats.estimate_grouping(accents, (group,))
    down = accents[phase::group]
    other = np.delete(accents, np.arange(phase, len(accents), group))
    spread = np.sqrt(down.var() / len(down) + other.var() / max(len(other), 1))
    return float((down.mean() - other.mean()) / max(spread, 1e-9)), phase


def _contrast(accents: np.ndarray, phase: int, group: int) -> float:
    """Downbeat accent over the accent half a bar later."""
    half = group // 2
    weak = accents[(phase + half) % group :: group].mean()
    return float(accents[phase % group :: group].mean() / max(weak, 1e-9))
