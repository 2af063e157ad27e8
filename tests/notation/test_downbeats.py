"""Beats per bar of simple meters from several downbeat cues (notation.downbeats)."""

from __future__ import annotations

import numpy as np

from clef_app.notation.downbeats import (
    MIN_BEATS,
    beat_cues,
    beat_pitches,
    phrase_evidence,
    simple_grouping,
    welch_t,
)
from clef_app.notation.events import NoteEvent

BEAT = 0.5  # s per beat


def piece(bar: list[tuple[list[int], float, int]], bars: int, seed: int = 0,
          quiet_downbeats: bool = True) -> tuple[list[NoteEvent], np.ndarray]:
    """Notes of `bars` bars of one pattern, (pitches, length in beats, velocity) per beat,
    each bar's harmony a fifth from the last; velocities jitter so that, with
    `quiet_downbeats`, the downbeat is no louder than the other beats (as in real
    playing, where accents alone do not tell the bar)."""
    rng = np.random.default_rng(seed)
    notes, t = [], 0.3
    for b in range(bars):
        shift = 7 * (b % 2)
        for pitches, length, velocity in bar:
            for p in pitches:
                v = 64 if quiet_downbeats else velocity
                v = int(np.clip(v + rng.normal(0, 6), 1, 127))
                notes.append(NoteEvent(t, t + length * BEAT * 0.9, p + shift, v))
            t += BEAT
    pos = (np.array([n.onset for n in notes]) - 0.3) / BEAT
    return notes, pos


def test_a_waltz_is_three_beats_even_without_louder_downbeats():
    waltz = [([40, 64, 67, 72], 2.0, 80), ([55, 60], 1.0, 70), ([55, 60], 1.0, 70)]
    notes, pos = piece(waltz, 32)
    assert simple_grouping(notes, pos) == (3, 0)


def test_a_march_in_two_is_2_4_not_4_4():
    # bass and new harmony on every other beat, nothing sets beat 3 of a 4/4 bar apart
    two = [([36, 60, 64, 67], 1.0, 80), ([67, 72], 0.5, 70)]
    notes, pos = piece(two, 40)
    assert simple_grouping(notes, pos) == (2, 0)


def test_a_bar_whose_first_beat_outweighs_its_third_in_every_cue_is_4_4():
    four = [([36, 48, 60, 64, 67, 72], 3.0, 90), ([67], 0.5, 60), ([43, 62], 1.0, 70),
            ([65], 0.5, 60)]
    notes, pos = piece(four, 20, quiet_downbeats=False)
    assert simple_grouping(notes, pos) == (4, 0)


def test_a_short_excerpt_is_left_to_the_accents():
    two = [([36, 60, 64, 67], 1.0, 80), ([67, 72], 0.5, 70)]
    notes, pos = piece(two, MIN_BEATS // 2 - 4)
    assert simple_grouping(notes, pos) is None


def test_cues_are_one_column_each_and_no_cue_decides_alone():
    two = [([36, 60, 64, 67], 1.0, 80), ([67, 72], 0.5, 70)]
    notes, pos = piece(two, 40)
    cues = beat_cues(notes, pos, 82)
    assert cues.shape == (82, 5) and np.allclose(cues.mean(axis=0), 0, atol=1e-9)
    assert cues[0:80:2, 1].mean() > cues[1:80:2, 1].mean()  # the bass on the downbeats
    assert welch_t(np.ones(10), np.zeros(10)) == 8.0  # a constant difference is capped


def phrase(beats: int, repeats: int, seed: int = 0) -> tuple[list[NoteEvent], np.ndarray]:
    """A phrase of `beats` different chords, one a beat, all alike in loudness, length,
    size and bass, played `repeats` times: only the phrase's length tells the bar."""
    rng = np.random.default_rng(seed)
    chords = [[48, 55 + 5 * k % 12, 64 + 7 * k % 12, 72 + 3 * k % 12] for k in range(beats)]
    notes, t = [], 0.3
    for _ in range(repeats):
        for chord in chords:
            for p in chord:
                v = int(np.clip(64 + rng.normal(0, 6), 1, 127))
                notes.append(NoteEvent(t, t + 0.9 * BEAT, p, v))
            t += BEAT
    return notes, (np.array([n.onset for n in notes]) - 0.3) / BEAT


def test_phrases_of_four_three_beat_bars_make_three_beats_when_no_beat_stands_apart():
    notes, pos = phrase(12, 9)
    assert phrase_evidence(beat_pitches(notes, pos, int(pos.max()) + 1)) > 0.5
    assert simple_grouping(notes, pos)[0] == 3


def test_phrases_of_sixteen_beats_stay_duple():
    notes, pos = phrase(16, 7)
    assert phrase_evidence(beat_pitches(notes, pos, int(pos.max()) + 1)) <= 0
    assert simple_grouping(notes, pos)[0] in (2, 4)


def test_four_beats_need_bars_of_two_with_downbeats(monkeypatch):
    """Beat 1 apart from beat 3 (a half-bar t far above FOUR_T) makes 4/4 only when odd
    beats stand apart from even ones at all: else it is a strong and a weak bar of two."""
    from clef_app.notation import downbeats

    notes, pos = piece([([48, 64], 1.0, 70), ([67], 1.0, 60)], 48)
    monkeypatch.setattr(downbeats, "phrase_evidence", lambda struck: -0.1)
    monkeypatch.setattr(downbeats, "half_bar_evidence", lambda cues, phase: (20.0, 0))
    for t2, beats in ((1.0, 4), (-1.0, 2)):
        monkeypatch.setattr(downbeats, "group_evidence",
                            lambda cues, group, t2=t2: (t2 if group == 2 else -3.0, 0))
        assert simple_grouping(notes, pos)[0] == beats
