"""Local tempo tracking: a pianist's rubato keeps its bar lines, a steady tempo its beats."""

from __future__ import annotations

import numpy as np
import pytest

from clef_app.notation import beats
from clef_app.notation.events import NoteEvent
from clef_app.notation.quality import Piece, evaluate_piece


def pulse(gaps: np.ndarray) -> list[NoteEvent]:
    t = np.concatenate([[0.5], 0.5 + np.cumsum(gaps)])
    return [NoteEvent(x, x + 0.2, 60 + k % 5, 70) for k, x in enumerate(t)]


def periods_at_onsets(notes: list[NoteEvent]) -> np.ndarray:
    """The tracker's local beat period (s) at each note's onset."""
    onsets = np.array([n.onset for n in notes])
    env = beats.onset_envelope(notes, onsets[0])
    period = beats.local_periods(env, onsets, onsets[0]) / beats.FPS
    return period[np.round((onsets - onsets[0]) * beats.FPS).astype(int)]


def test_local_tempo_follows_tempo_changes_every_few_beats(monkeypatch):
    gaps = np.concatenate([np.full(8, g) for g in (0.5, 0.65) * 4])  # 4-5 s each
    notes = pulse(gaps)
    period = periods_at_onsets(notes)[:-1]
    assert np.mean(np.abs(period / gaps - 1) < 0.05) > 0.75, np.round(period, 2)
    monkeypatch.setattr(beats, "FINE_WINDOW", 0.0)  # the 8-s windows alone: about half
    assert np.mean(np.abs(periods_at_onsets(notes)[:-1] / gaps - 1) < 0.05) < 0.65


def test_a_steady_tempo_keeps_the_long_windows_periods(monkeypatch):
    gaps = np.full(60, 0.6) + np.random.default_rng(0).normal(0, 0.01, 60)
    period = periods_at_onsets(pulse(gaps))
    monkeypatch.setattr(beats, "FINE_WINDOW", 0.0)
    assert np.array_equal(period, periods_at_onsets(pulse(gaps)))


@pytest.mark.parametrize("piece", [
    Piece("haydn/opus1no1/movement4.mxl", 12, 132),  # 3/4: 27 % before local tempo
    Piece("mozart/k458/movement1.mxl", 12, 160),  # 6/8: 25 %
])
def test_a_pianists_rubato_keeps_the_bar_lines(piece):
    score = evaluate_piece(piece, "auto", oracle=True, seed=0, style="rubato")
    assert score.onset > 0.7 and score.meter_ok, (score.onset, score.meter)
