"""Timing of a score: tempo map, meters, pickup, from tracked beats and the user's overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from clef_app.notation import beats
from clef_app.notation.events import NoteEvent
from clef_app.notation.measures import Meter
from clef_app.notation.meter_estimate import estimate_meter
from clef_app.notation.settings import ScoreSettings
from clef_app.notation.steps import Steps, run_to_end
from clef_app.notation.timemap import TempoMap

DEFAULT_BPM = 120.0
BEATS_SHARE = 0.6  # of the timing's work: tracking the beats (the meter is the rest)


@dataclass(frozen=True)
class Timing:
    """Where the beats and bars are.

    tempo_map maps seconds to quarter notes with 0 on bar 1's bar line.
    """

    tempo_map: TempoMap
    meters: list[tuple[int, Meter]]  # (first bar, meter), sorted, the first at bar 1
    pickup: Fraction  # quarter notes before bar 1
    beat_quarters: Fraction  # the written beat: 1, or 3/2 (dotted quarter) in compound meters
    first_beat: Fraction = Fraction(0)  # a beat position (the grid's phase)

    def bar_start(self, number: int) -> Fraction:
        """Position of bar `number`'s bar line (bar 0 is the pickup)."""
        if number <= 0:
            return -self.pickup
        pos, meter, at = Fraction(0), self.meters[0][1], dict(self.meters)
        for b in range(1, number):
            meter = at.get(b, meter)
            pos += meter.bar_quarters
        return pos


def analyse_timing(notes: Sequence[NoteEvent], s: ScoreSettings, method: str = "auto") -> Timing:
    """Tempo map, meters and pickup for these notes under these overrides."""
    return run_to_end(analyse_timing_steps(notes, s, method))


def analyse_timing_steps(notes: Sequence[NoteEvent], s: ScoreSettings, method: str = "auto"
                         ) -> Steps[Timing]:
    """`analyse_timing` yielding the fraction done once the beats are tracked."""
    user_meters = [(b, Meter.parse(m)) for b, m in s.meter]
    if not notes:
        meters = _meters(user_meters, Meter(4, 4))
        return Timing(TempoMap.constant(DEFAULT_BPM), meters, Fraction(0), Fraction(1))
    if method == "simple":
        return _simple(notes, s, user_meters)
    beat_s = beats.track_beats(notes)
    yield BEATS_SHARE
    onsets = np.array([n.onset for n in notes])
    beat_map = TempoMap.from_beats(beat_s, 1.0)  # positions in tracked beats for now
    pos = beat_map.to_quarters(onsets)
    first_user = user_meters[0][1] if user_meters and user_meters[0][0] == 1 else None
    bpm = 60.0 / float(np.median(np.diff(beat_s)))
    choice = estimate_meter(steady_lengths(notes, beat_map, 60.0 / bpm), pos, len(beat_s), bpm,
                            first_user)
    meters = _meters(user_meters, choice.meter)
    beat_q = Fraction(3, 2) if choice.meter.compound else Fraction(1)
    # eighth `bar_line` is bar 1's bar line; earlier notes form the pickup (less than a bar)
    tmap = TempoMap(beat_map.seconds,
                    (beat_map.quarters * choice.eighths_per_beat - choice.bar_line) / 2.0)
    bar_q = float(meters[0][1].bar_quarters)
    first_q = float(tmap.to_quarters(onsets.min()))
    if first_q < -bar_q + 0.125:
        whole_bars = np.ceil((-first_q - 0.125) / bar_q)
        tmap = TempoMap(tmap.seconds, tmap.quarters + whole_bars * bar_q)
    pickup = _pickup(tmap, onsets, s.pickup, beat_q)
    if s.pickup is not None:
        first_q = float(tmap.to_quarters(onsets.min()))
        tmap = TempoMap(tmap.seconds, tmap.quarters + (-float(s.pickup) - first_q))
    timing = Timing(tmap, meters, pickup, beat_q)
    return _apply_tempo_overrides(timing, s)


def steady_lengths(notes: Sequence[NoteEvent], beat_map: TempoMap, period: float
                   ) -> list[NoteEvent]:
    """The notes with each length measured in tracked beats and given back at the median
    beat `period` (s): a note held into a phrase's ritardando is not the longer for it
    (meter estimation weighs long notes as accents)."""
    on = beat_map.to_quarters([n.onset for n in notes])
    off = beat_map.to_quarters([n.offset for n in notes])
    return [replace(n, offset=n.onset + max(float(b - a), 0.01) * period)
            for n, a, b in zip(notes, on, off, strict=True)]


def _simple(notes, s: ScoreSettings, user_meters) -> Timing:
    """The walking skeleton: one tempo (user's or 120), the first note on the first beat."""
    bpm = s.tempo[0][1] if s.tempo and s.tempo[0][0] == 1 else DEFAULT_BPM
    pickup = s.pickup or Fraction(0)
    t0 = min(n.onset for n in notes) + float(pickup) * 60.0 / bpm
    meters = _meters(user_meters, Meter(4, 4))
    return Timing(TempoMap.constant(bpm, t0), meters, pickup, Fraction(1))


def _meters(user: list[tuple[int, Meter]], estimated: Meter) -> list[tuple[int, Meter]]:
    if user and user[0][0] == 1:
        return user
    return [(1, estimated)] + user


def _pickup(
    tmap: TempoMap, onsets: np.ndarray, user: Fraction | None, beat_q: Fraction
) -> Fraction:
    """Quarter notes before bar 1: the first onset's distance to it, rounded to a 16th."""
    if user is not None:
        return user
    first = float(tmap.to_quarters(onsets.min()))
    if first >= -0.125:
        return Fraction(0)
    return Fraction(round(-first * 4), 4)


def _apply_tempo_overrides(timing: Timing, s: ScoreSettings) -> Timing:
    tmap = timing.tempo_map
    for bar, bpm in s.tempo:
        start = timing.bar_start(bar) if bar > 1 else -timing.pickup
        tmap = tmap.with_tempo_from(float(start), bpm)
    return Timing(tmap, timing.meters, timing.pickup, timing.beat_quarters, timing.first_beat)
