"""Timing of a score: tempo map, meters, pickup, from tracked beats and the user's overrides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from clef_app.notation import beats
from clef_app.notation.events import NoteEvent
from clef_app.notation.measures import Meter
from clef_app.notation.quantize import choose_subdivisions, ternary
from clef_app.notation.settings import ScoreSettings
from clef_app.notation.timemap import TempoMap

DEFAULT_BPM = 120.0
COMPOUND_SHARE = 0.5  # of subdivided beats divided in three: the meter is compound
SIMPLE_METERS = {2: "2/4", 3: "3/4", 4: "4/4"}
COMPOUND_METERS = {2: "6/8", 3: "9/8", 4: "12/8"}


@dataclass(frozen=True)
class Timing:
    """Where the beats and bars are.

    tempo_map maps seconds to quarter notes with 0 on bar 1's bar line.
    """

    tempo_map: TempoMap
    meters: list[tuple[int, Meter]]  # (first bar, meter), sorted, the first at bar 1
    pickup: Fraction  # quarter notes before bar 1
    beat_quarters: Fraction  # the tracked beat: 1 or 3/2 (compound meters)
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
    user_meters = [(b, Meter.parse(m)) for b, m in s.meter]
    if not notes:
        meters = _meters(user_meters, Meter(4, 4))
        return Timing(TempoMap.constant(DEFAULT_BPM), meters, Fraction(0), Fraction(1))
    if method == "simple":
        return _simple(notes, s, user_meters)
    beat_s = beats.track_beats(notes)
    onsets = np.array([n.onset for n in notes])
    beat_map = TempoMap.from_beats(beat_s, 1.0)  # positions in beats for now
    pos = beat_map.to_quarters(onsets)
    compound = _is_compound(pos, len(beat_s))
    first_user = user_meters[0][1] if user_meters and user_meters[0][0] == 1 else None
    if first_user is not None:
        compound = first_user.compound
    beat_q = Fraction(3, 2) if compound else Fraction(1)
    n_beats = int(np.ceil(pos.max())) + 2
    accents = beats.beat_accents(notes, pos, n_beats)
    if first_user is not None:
        per_bar = int(first_user.bar_quarters / beat_q) or 1
        group, phase = beats.estimate_grouping(accents, (per_bar,))
        estimated = first_user
    else:
        group, phase = beats.estimate_grouping(accents)
        estimated = Meter.parse((COMPOUND_METERS if compound else SIMPLE_METERS)[group])
    meters = _meters(user_meters, estimated)
    # beat `phase` is bar 1's bar line; earlier notes form the pickup (less than a bar)
    tmap = TempoMap(beat_map.seconds, (beat_map.quarters - phase) * float(beat_q))
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


def _is_compound(pos: np.ndarray, n_beats: int) -> bool:
    """Most divided beats divide in three."""
    subs = choose_subdivisions(pos, n_beats + 1, (1, 2, 4, 3, 6))
    divided = [s for s in subs if s > 1]
    return bool(divided) and sum(ternary(s) for s in divided) > COMPOUND_SHARE * len(divided)


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
