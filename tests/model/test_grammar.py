import numpy as np

from clef_app.model.grammar import Grammar
from clef_app.notation.codec import (
    BOS,
    EOS,
    TIE_END,
    encode_segment,
    off_token,
    on_token,
    time_token,
    to_frames,
    vel_token,
)
from clef_app.notation.events import NoteEvent


def _accepts(tokens):
    g = Grammar(1, 256)
    g.update([tokens[0]])
    for tok in tokens[1:]:
        if not g.mask()[0, tok]:
            return False
        g.update([tok])
    return True


def test_every_canonical_encoding_is_allowed():
    rng = np.random.default_rng(0)
    notes = []
    for _ in range(300):
        on = float(rng.uniform(0, 20))
        notes.append(NoteEvent(on, on + float(rng.uniform(0.02, 3)), int(rng.integers(21, 109)),
                               int(rng.integers(1, 128))))
    frames = to_frames(notes)
    for start in range(0, 2300, 256):
        assert _accepts(encode_segment(frames, start, 256))


def test_loops_and_disorder_are_masked():
    assert not _accepts([BOS, TIE_END, time_token(3), vel_token(4), on_token(58), on_token(58)])
    assert not _accepts([BOS, TIE_END, time_token(3), time_token(3)])
    assert not _accepts([BOS, TIE_END, time_token(3), off_token(60)])  # nothing sounding
    assert not _accepts([BOS, TIE_END, time_token(3), vel_token(2), on_token(60), off_token(60)])
    assert not _accepts([BOS, on_token(60), on_token(50)])  # ties ascend
    assert _accepts([BOS, on_token(50), TIE_END, time_token(0), off_token(50), EOS])
