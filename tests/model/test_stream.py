"""StreamTranscriber with the shipped checkpoint on the demo: final notes on the segment
grid, provisional ones from a window ending in the newest audio, bounded memory."""

import copy

import numpy as np
import pytest
import torch

from clef_app.audio.io import load_audio
from clef_app.config import MIDI_MIN
from clef_app.model.checkpoint import find_checkpoint
from clef_app.model.frontend import lookahead, segment_mels, window_context, window_mels
from clef_app.model.pipeline import Pipeline
from clef_app.model.weights import PROJECT_ROOT
from clef_app.notation.codec import (
    BOS,
    EOS,
    OFF_OFFSET,
    ON_OFFSET,
    TIE_END,
    TIME_OFFSET,
    NoteStitcher,
)
from clef_app.notation.events import NoteEvent

DEMO = PROJECT_ROOT / "resources" / "demo" / "demo.flac"
RATE = 16_000
SEGMENT = 2.56  # s


@pytest.fixture(scope="module")
def transcriber():
    if find_checkpoint() is None:
        pytest.skip("no trained checkpoint installed")
    torch.set_num_threads(1)  # as the live path runs it
    return Pipeline.load(device="cpu")


@pytest.fixture(scope="module")
def demo():
    return load_audio(DEMO).samples


def test_a_window_on_the_segment_grid_is_that_segment(transcriber, demo):
    fe = transcriber.fe
    x = demo[: 3 * fe.segment_samples]
    assert torch.equal(window_mels(x, [fe.segment_samples], fe), segment_mels(x, 1, 1, fe))
    anywhere = window_context(x, 1000, fe)  # frame 0 centred on sample 1000: 24 zeros first
    assert not anywhere[:24].any() and np.array_equal(anywhere[24 : 24 + 4000], x[:4000])


def test_provisional_notes_follow_the_final_segments(transcriber, demo):
    stream = transcriber.stream()
    ahead = lookahead(transcriber.fe) / RATE  # s of audio a segment reads past its end
    final = stream.push(demo[: int(3.6 * RATE)])  # segment 0 is final (2.56 s + context)
    assert stream.next_segment == 1
    opened = _unsettled(stream)
    shown = stream.peek()  # the segment being filled, decoded up to 3.6 s
    new = [n for n in shown if n.onset >= SEGMENT]
    assert new and all(n.onset < 3.6 for n in new)
    older = [n for n in shown if n.onset < SEGMENT]
    assert {(n.pitch, n.onset) for n in older} == {
        (n.pitch, n.onset) for n in transcriber.keep(opened)}  # still sounding at 2.56 s
    held = {(n.pitch, n.onset) for n in stream.sustain.waiting()} if stream.sustain else set()
    # ... ended where the window hears them (a final note held by the roll head: where it
    # stops hearing it, known once a note of that key can no longer begin before)
    assert all(n.offset >= SEGMENT for n in older if (n.pitch, n.onset) not in held)

    end = 2 * SEGMENT + ahead + 0.1
    final += stream.push(demo[int(3.6 * RATE) : int(end * RATE)])  # segment 1 is final
    assert stream.next_segment == 2
    after = stream.provisional()  # no decode: the last window, with the new boundary
    assert all(n.onset >= 2 * SEGMENT or _sounding(n, stream) for n in after)
    confirmed = [n for n in new if any(f.pitch == n.pitch and abs(f.onset - n.onset) <= 0.05
                                       for f in final)]
    assert len(confirmed) >= len(new) / 2  # most provisional notes came true


def _unsettled(stream) -> list[NoteEvent]:
    """Notes of decoded segments not final yet: still sounding, held while the roll head
    hears their key, or roll-only notes whose end is not known yet."""
    extra = copy.deepcopy(stream.extra).finish() if stream.extra is not None else []
    held = stream.sustain.waiting() if stream.sustain is not None else []
    return copy.deepcopy(stream.stitcher).finish() + held + extra


def _sounding(n: NoteEvent, stream) -> bool:
    return any(o.pitch == n.pitch and o.onset == n.onset for o in _unsettled(stream))


def test_a_sliding_window_reads_a_full_segment_of_real_audio(transcriber, demo):
    stream = transcriber.stream()
    stream.push(demo[: int(4.0 * RATE)])
    shown = stream.peek(context=SEGMENT)
    assert stream._window_start == pytest.approx(4.0 - SEGMENT, abs=0.011)
    assert all(n.onset >= SEGMENT or _sounding(n, stream) for n in shown)
    assert any(n.onset >= SEGMENT for n in shown)


def test_memory_stays_bounded_over_a_long_take(transcriber, demo):
    stream = transcriber.stream()
    block = 4096
    for i in range(0, int(12 * RATE), block):
        stream.push(demo[i : i + block])
        fe = transcriber.fe
        assert len(stream.buffer) <= 2 * fe.segment_samples + lookahead(fe) + block
    assert stream.next_segment == 4


def test_a_window_adopts_the_notes_tied_into_it():
    # tokens of a window whose first event is a tie of key 60 (C4): it was sounding before
    tokens = [BOS, ON_OFFSET + 60 - MIDI_MIN, TIE_END, TIME_OFFSET + 30,
              OFF_OFFSET + 60 - MIDI_MIN, EOS]
    plain, adopting = NoteStitcher(), NoteStitcher(adopt_ties=True)
    assert plain.feed(100, 256, tokens) == []
    assert plain.stats.invalid == {"tie without an open note": 1,
                                   "note-off without note-on": 1}
    (note,) = adopting.feed(100, 256, tokens)
    assert (note.pitch, note.onset, note.offset, note.confidence) == (60, 1.0, 1.3, 0.0)
