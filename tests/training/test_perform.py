"""Performance: piano key logic, pedal in labels, tempo map, humanisation bounds."""

import numpy as np

from clef_app.training.perform import Piece, perform, piano_keys, sounding, tempo_map


def test_unisons_merge_and_restrikes_cut() -> None:
    rows = np.array([
        [0.0, 1.0, 60, 80],   # two voices on one key at once: one note
        [0.0, 0.5, 60, 100],
        [0.5, 2.0, 64, 70],
        [1.0, 1.5, 64, 90],   # the same key again while held: the first note ends
    ])  # fmt: skip
    out = piano_keys(rows)
    assert out.tolist() == [[0.0, 1.0, 60, 100], [0.5, 1.0, 64, 70], [1.0, 1.5, 64, 90]]


def test_a_key_struck_again_faster_than_a_pianist_can_is_held_instead() -> None:
    rows = np.array([
        [0.00, 0.04, 60, 70],
        [0.05, 0.09, 60, 90],  # 50 ms after the last strike: held, not struck again
        [0.10, 0.14, 60, 80],  # 100 ms after the kept strike: struck again
        [0.15, 0.30, 62, 80],
    ])  # fmt: skip
    out = piano_keys(rows)
    assert out.tolist() == [[0.0, 0.09, 60, 90], [0.1, 0.14, 60, 80], [0.15, 0.3, 62, 80]]


def test_performed_pieces_rarely_repeat_a_key_within_100_ms() -> None:
    from clef_app.training import figuration, procedural

    repeats = notes = 0
    for seed in range(12):
        for gen in (figuration.generate, procedural.generate):
            rng = np.random.default_rng(seed)
            bpm = float(rng.uniform(60.0, 160.0))
            labels = perform(gen(rng, 20.0, bpm), rng, bpm).labels
            last: dict[int, float] = {}
            for n in sorted(labels, key=lambda n: n.onset):
                repeats += n.onset - last.get(n.pitch, -1.0) < 0.1
                last[n.pitch] = n.onset
            notes += len(labels)
    assert repeats / notes < 0.025  # real piano 0-4 % (maps-dev); 4-7 % before the rule


def test_pedal_holds_labels_until_lift_or_restrike() -> None:
    keys = np.array(
        [[0.0, 0.5, 60, 80], [0.2, 0.4, 67, 80], [1.0, 1.2, 60, 80], [2.5, 2.6, 72, 80]]
    )
    labels = sounding(keys, [(0.1, 2.0)])
    assert labels[:, 1].tolist() == [1.0, 2.0, 2.0, 2.6]  # 60 cut by its restrike at 1.0


def test_tempo_map_is_increasing_near_the_tempo() -> None:
    beats, seconds = tempo_map(32, np.random.default_rng(1), bpm=120.0)
    assert np.all(np.diff(seconds) > 0)
    assert 0.8 * 16 < np.interp(32, beats, seconds) < 1.25 * 16


def test_perform_is_seeded_and_keeps_the_piano_range() -> None:
    rng = np.random.default_rng(0)
    n = 200
    starts = np.sort(rng.integers(0, 64, n) / 2.0)
    notes = np.stack([starts, starts + 1.0, rng.integers(15, 115, n), np.zeros(n)], axis=1)
    piece = Piece("t", notes, np.arange(0, 64, 4.0), 4.0)
    a = perform(piece, np.random.default_rng(5), bpm=100, transpose=3)
    b = perform(piece, np.random.default_rng(5), bpm=100, transpose=3)
    assert a.labels == b.labels and a.pedal == b.pedal
    assert all(21 <= x.pitch <= 108 and 1 <= x.velocity <= 127 for x in a.labels)
    assert len(a.keys) == len(a.labels)
    for key, label in zip(a.keys, a.labels, strict=True):
        assert key.onset == label.onset and label.offset >= key.offset - 1e-9
    onsets = sorted({round(x.onset, 6) for x in a.labels})
    assert onsets[0] == 0.0 and 14 < onsets[-1] < 26  # 31.5 beats at ~100 bpm: ~19 s
