"""Procedural piano textures: in range, polyphonic, seeded, about as long as asked."""

import numpy as np

from clef_app.training.procedural import LEFT, RIGHT, generate, progression


def test_generate_is_seeded_in_range_and_long_enough() -> None:
    for seed in range(30):
        a = generate(np.random.default_rng(seed), seconds=25.0, bpm=100.0)
        b = generate(np.random.default_rng(seed), seconds=25.0, bpm=100.0)
        assert np.array_equal(a.notes, b.notes)
        assert len(a.notes) > 20
        assert a.notes[:, 2].min() >= 21 and a.notes[:, 2].max() <= 108
        assert np.all(a.notes[:, 1] > a.notes[:, 0])
        assert a.notes[:, 0].max() >= 25.0 * 100 / 60 - 4  # beats covering the clip


def test_textures_include_chords_and_fast_notes() -> None:
    max_chord, min_gap = 0, 1.0
    for seed in range(40):
        piece = generate(np.random.default_rng(seed), seconds=20.0, bpm=90.0)
        starts, counts = np.unique(piece.notes[:, 0], return_counts=True)
        max_chord = max(max_chord, counts.max())
        min_gap = min(min_gap, np.diff(starts).min())
    assert max_chord >= 6  # dense chords
    assert min_gap <= 0.125 + 1e-9  # trills, runs, repeated notes


def test_progression_uses_the_key() -> None:
    chords = progression(np.random.default_rng(3), 64, tonic=2, minor=False)
    diatonic = {(2 + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)}
    share = np.mean([set(c) <= diatonic for c in chords])
    assert 0.75 < share < 1.0 and {"alberti", "stride"} <= set(LEFT) and "trill" in RIGHT
