"""Score building in time near-linear in the notes (issue 16): the windows that beat
tracking and the hands look at are found by bisection, not by scanning every note for
every beat and every onset, and they hold the same notes as a scan would."""

from __future__ import annotations

import random
import time
from fractions import Fraction

import numpy as np

from clef_app.notation import beats, layout
from clef_app.notation.quantize import QNote
from clef_app.notation.score import build_score_steps
from tests.notation.test_large_export import _piece

LINEAR_SLACK = 1.6  # CPU time of 4x the notes at most this many times 4x (quadratic: 4x)


def _analysis_cpu(n_notes: int) -> float:
    """CPU seconds of a score's analysis (beats, meter, grid, key, hands, bars) of a dense
    two-hand piece of `n_notes`: the stages before the score is written out."""
    steps = build_score_steps(_piece(n_notes), {})
    started = time.process_time()
    while next(steps) < 0.5:
        pass
    return time.process_time() - started


def test_the_analysis_of_four_times_the_notes_takes_about_four_times_as_long():
    small, large = _analysis_cpu(1500), _analysis_cpu(6000)
    assert large < 4 * LINEAR_SLACK * small, (small, large)


def test_local_tatums_look_at_the_same_windows_as_a_scan():
    rng = np.random.default_rng(16)
    onsets = rng.uniform(0, 60, 600)
    onsets[:40] = np.repeat(onsets[:20], 2)  # chords: attacks at the same time
    times = np.concatenate([rng.uniform(-5, 65, 50), onsets[:10] + beats.TEMPO_WINDOW / 2])
    half = beats.TEMPO_WINDOW / 2
    scan = [beats.tatum(onsets[(onsets >= c - half) & (onsets < c + half)]) for c in times]
    expected = np.array([np.nan if p is None else p for p in scan])
    np.testing.assert_array_equal(beats.local_tatums(onsets, times), expected)


def test_a_beat_snaps_to_the_onset_a_scan_would_choose():
    rng = np.random.default_rng(3)
    onsets = np.round(rng.uniform(0, 30, 300), 2)  # repeated onsets: ties go to the first
    weights = rng.uniform(0.5, 2.0, 300)
    beats_s = np.arange(0.0, 30.0, 0.5) + rng.uniform(-0.1, 0.1, 60)
    period = np.median(np.diff(beats_s))
    expected = beats_s.copy()
    for i, b in enumerate(beats_s):
        cand = np.nonzero(np.abs(onsets - b) < beats.SNAP * period)[0]
        if len(cand):
            score = weights[cand] - 2.0 * np.abs(onsets[cand] - b) / period
            expected[i] = onsets[cand[np.argmax(score)]]
    expected = expected[np.concatenate([[True], np.diff(expected) > 0.25 * period])]
    np.testing.assert_array_equal(beats.snap_to_onsets(beats_s, onsets, weights), expected)


def test_the_hands_look_at_the_notes_a_scan_finds_near_each_onset():
    rng = random.Random(5)
    qnotes = [QNote(i, rng.randint(30, 90), Fraction(rng.randint(0, 400), 4),
                    Fraction(rng.randint(401, 420), 4)) for i in range(500)]
    starts = np.array([float(q.start) for q in qnotes])
    order = np.argsort(starts, kind="stable")
    for t in sorted({float(q.start) for q in qnotes}) + [-10.0, 4.0, 104.0]:
        near = layout._near(starts, order, starts[order], t)
        scan = np.nonzero(np.abs(starts - t) <= layout.WINDOW_QUARTERS)[0]
        assert sorted(near.tolist()) == scan.tolist()


def test_the_analysis_reports_progress_within_its_stages():
    """Beats, meter, grid passes, key, hands and each staff's voices each end with a step of
    progress (the analysis of 200,000 notes went 20 s of CPU between two before)."""
    steps = build_score_steps(_piece(800), {})
    seen = [next(steps)]
    while seen[-1] < 0.5:
        seen.append(next(steps))
    assert seen == sorted(seen)
    assert len(set(seen[:-1])) >= 8, seen
