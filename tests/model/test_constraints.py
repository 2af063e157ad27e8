"""Constrained decoding: forced notes are written where they are, deleted onsets never, and
no mix of requirements leads the grammar into a dead end (random decoders, many seeds)."""

import numpy as np
import pytest

from clef_app.model.constraints import ConstrainedGrammar, WindowConstraints
from clef_app.model.grammar import Grammar
from clef_app.notation.codec import (
    BOS,
    EOS,
    FrameNote,
    NoteStitcher,
    decode_segment,
    encode_segment,
    on_token,
    to_frames,
)
from clef_app.notation.events import NoteEvent

FRAMES = 256


def _random_decode(grammar, rng, limit=4000, bias=None):
    """Tokens a random decoder writes under `grammar` (one row)."""
    tokens = [BOS]
    grammar.update([BOS])
    for _ in range(limit):
        ok = grammar.mask()[0]
        assert ok.any()
        logits = rng.normal(size=ok.shape) + (bias if bias is not None else 0.0)
        tok = int(np.argmax(np.where(ok, logits, -np.inf)))
        grammar.update([tok])
        tokens.append(tok)
        if tok == EOS:
            break
    return tokens


def _random_notes(rng, count, lo=-100, hi=300):
    notes = []
    for _ in range(count):
        on = float(rng.uniform(lo, hi)) / 100
        notes.append(NoteEvent(max(0.0, on + 1.0), on + 1.0 + float(rng.uniform(0.02, 2.0)),
                               int(rng.integers(21, 109)), int(rng.integers(1, 128))))
    return notes


@pytest.mark.parametrize("seed", range(40))
def test_forced_notes_are_written_at_their_frames_and_deleted_never(seed):
    rng = np.random.default_rng(seed)
    start = 100  # the window's first frame on the piece's grid
    forced = to_frames(_random_notes(rng, int(rng.integers(0, 25))))
    deleted = [n for n in to_frames(_random_notes(rng, 8))
               if not any(f.pitch == n.pitch and abs(f.on - n.on) <= 6 for f in forced)]
    shift = [FrameNote(n.on - start, n.off - start, n.pitch, n.velocity) for n in forced]
    gone = [FrameNote(n.on - start, n.off - start, n.pitch) for n in deleted]
    c = WindowConstraints.build(FRAMES, shift, gone, may_tie=set())
    # a decoder keen on ending early and on the deleted keys
    bias = np.zeros(445)
    bias[EOS] = 3.0
    for n in gone:
        bias[on_token(n.pitch)] = 2.0
    grammar = ConstrainedGrammar([c])
    tokens = _random_decode(grammar, rng, bias=bias)
    row = grammar.rows[0]
    assert row.satisfied and row.dead_ends == 0 and tokens[-1] == EOS
    seg = decode_segment(tokens)
    ons = {(t, p) for t, is_on, p, _, _ in seg.events if is_on}
    offs = {(t, p) for t, is_on, p, _, _ in seg.events if not is_on}
    expected = encode_segment(forced, start, FRAMES)
    want = decode_segment(expected)
    assert set(want.ties) <= set(seg.ties)
    assert {(t, p) for t, on, p, _, _ in want.events if on} <= ons
    for t, on, p, _, _ in want.events:  # released at its frame, or earlier (to strike again)
        assert on or any(q == p and u <= t for u, q in offs)
    for n in gone:
        assert not any(p == n.pitch and abs(t - n.on) <= 5 for t, p in ons)


def test_the_written_tokens_are_grammatical_and_stitch_without_loss():
    rng = np.random.default_rng(7)
    forced = to_frames(_random_notes(rng, 30))
    c = WindowConstraints.build(FRAMES, forced, [], may_tie=None)
    grammar = ConstrainedGrammar([c])
    tokens = _random_decode(grammar, rng)
    plain = Grammar(1, FRAMES)  # what the constraints allow, the plain grammar allows too
    plain.update([BOS])
    for tok in tokens[1:]:
        assert plain.mask()[0, tok]
        plain.update([tok])
    stitcher = NoteStitcher(adopt_ties=True)  # a window on its own: its ties began before
    stitcher.feed(0, FRAMES, tokens)
    assert stitcher.stats.total == 0


def test_ties_are_only_of_sounding_keys():
    rng = np.random.default_rng(3)
    c = WindowConstraints.build(FRAMES, [FrameNote(-20, 40, 60)], [], may_tie={5})
    grammar = ConstrainedGrammar([c])
    tokens = _random_decode(grammar, rng)
    seg = decode_segment(tokens)
    assert 60 in seg.ties and set(seg.ties) <= {60, 21 + 5}
    assert (40, False, 60) in {(t, on, p) for t, on, p, _, _ in seg.events}
