import numpy as np

from clef_app.config import MIDI_MAX, MIDI_MIN
from clef_app.training import figuration
from clef_app.training.perform import perform


def _pitches(seed: int) -> np.ndarray:
    return figuration.generate(np.random.default_rng(seed), 25.0, 120.0).notes[:, 2]


def test_generate_is_seeded_and_on_the_keyboard() -> None:
    a = figuration.generate(np.random.default_rng(3), 25.0, 120.0).notes
    b = figuration.generate(np.random.default_rng(3), 25.0, 120.0).notes
    assert np.array_equal(a, b)
    assert a[:, 2].min() >= MIDI_MIN and a[:, 2].max() <= MIDI_MAX
    assert (a[:, 1] > a[:, 0]).all()


def test_extreme_octaves_are_common() -> None:
    """Over a few pieces, the lowest and highest octaves each hold a real share of notes
    (the corpus rarely reaches them: that is what this texture set is for)."""
    pitches = np.concatenate([_pitches(s) for s in range(8)])
    low = np.mean(pitches < 36)  # A0-B1
    high = np.mean(pitches >= 96)  # C7-C8
    assert low > 0.05 and high > 0.03


def test_performed_figuration_is_fast() -> None:
    rng = np.random.default_rng(5)
    perf = perform(figuration.generate(rng, 25.0, 140.0), rng, 140.0)
    onsets = np.array([n.onset for n in perf.labels])
    assert len(onsets) / onsets.max() > 8  # notes per second, as in études
